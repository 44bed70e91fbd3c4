/** The version of the backend plug-in contract this copy of `@mq/core` speaks. */
export const SPI_VERSION = 1;
