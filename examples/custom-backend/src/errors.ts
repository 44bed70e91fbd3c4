import { packageErrors } from '@mq/core/spi';

/** Every error of `@acme/mq-redis`, its message starting with `[acme/mq-redis]`. */
export const errors = packageErrors('acme/mq-redis');
