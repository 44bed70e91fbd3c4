/**
 * Turns message bodies into bytes and back, for a queue's `codec` option: MessagePack, protobuf, or anything
 * the built-in `'bytes'`, `'json'` and `'text'` do not cover.
 */
export interface Codec<T> {
  /** The MIME type senders put on each message (and receivers pick this codec by), e.g. `application/x-msgpack`. */
  readonly contentType: string;
  /** The bytes of a body; may throw (the send then rejects with `INVALID_ARGUMENT`). */
  encode(body: T): Uint8Array;
  /** The body of some bytes; may throw (the message then goes to `deadLetter` or is dropped: `INVALID_PAYLOAD`). */
  decode(payload: Buffer): T;
}

/** The built-in codecs: `'bytes'` (`Buffer` in and out), `'json'` (`application/json`), `'text'` (UTF-8 `text/plain`). */
export type CodecName = 'bytes' | 'json' | 'text';

/**
 * What a queue's `codec` option takes for body type `T`: `'bytes'` where `T` is a `Buffer`, `'text'` where it takes
 * a string, `'json'` for any other type (give the type, `new AmqpQueue<Order>(...)`, or a `schema`), or a
 * `Codec`.
 */
export type CodecOption<T> =
  | Codec<T>
  | ([Buffer] extends [T] ? 'bytes' : never)
  | ([string] extends [T] ? 'text' : never)
  | ([T] extends [Buffer] ? never : 'json');

/** What `sendMsg` takes for body type `T`: any `Uint8Array` for a `Buffer` body (the `'bytes'` codec), else `T`. */
export type Sendable<T> = [T] extends [Buffer] ? Uint8Array : T;
