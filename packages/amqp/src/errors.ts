import { packageErrors } from '@mq/core/spi';

/** Every error of `@mq/amqp`, its message starting with `[mq/amqp]`. */
export const errors = packageErrors('mq/amqp');
