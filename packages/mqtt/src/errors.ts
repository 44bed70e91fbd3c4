import { packageErrors } from '@mq/core/spi';

/** Every error of `@mq/mqtt`, its message starting with `[mq/mqtt]`. */
export const errors = packageErrors('mq/mqtt');
