import { packageErrors } from '@mq/core/spi';

/** Every error of `@mq/memory`, its message starting with `[mq/memory]`. */
export const errors = packageErrors('mq/memory');
