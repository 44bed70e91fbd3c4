/**
 * The version of the backend plug-in contract this copy of `@mq/core` speaks. 2: a backend implements a
 * `QueueDriver` and a `LinkDriver` and passes them, with its traits, to the base classes' constructors (version 1
 * had hooks on the classes): `defineBackend` refuses a descriptor of another version with a message naming both,
 * rather than letting a version-1 class fail obscurely in the new constructors.
 */
export const SPI_VERSION = 2;
