import type { SendOptions } from '@mq/core';

const MARKER = Symbol.for('@mq/nestjs.MqRecord');

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
  ) {
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True for any `MqRecord`, also one made by another copy of this package (the CommonJS one beside the ESM one). */
  static isInstance(value: unknown): value is MqRecord {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }
}
