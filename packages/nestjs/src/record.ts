import type { SendOptions } from '@mq/core';

/**
 * Data for `client.emit(pattern, new MqRecord(data, options))` with message metadata: headers, message and
 * correlation ids, content type, expiration (mq's `SendOptions`; the handler reads them from
 * `ctx.getMessage()`). Like Nest's `RmqRecord`.
 */
export class MqRecord<T = unknown> {
  /** Creates a record of `data` with `options`. */
  constructor(
    /** What the handler gets as its payload. */
    readonly data: T,
    /** The metadata sent with it. */
    readonly options: SendOptions = {},
  ) {}
}
