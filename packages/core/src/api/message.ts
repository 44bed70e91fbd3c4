import type { SendOptions } from './send-options.js';

/**
 * A received message. Settle it exactly once with `ack()` or `nack()`. `T` is its queue's body type (see the
 * queue option `codec`).
 */
export interface Message<T = Buffer> {
  /** The bytes, exactly as sent. */
  readonly payload: Buffer;
  /** The decoded body (the queue's codec, or the one the content type names); `payload` itself for `'bytes'`. */
  readonly body: T;
  /** Application headers (see `SendOptions.headers`); `{}` when none. */
  readonly headers: Readonly<Record<string, string>>;
  /** The sender's message id, if any. */
  readonly messageId?: string | undefined;
  /** The sender's correlation id, if any. */
  readonly correlationId?: string | undefined;
  /** The payload's MIME type, if the sender gave one. */
  readonly contentType?: string | undefined;
  /** Milliseconds since the epoch, when the sender or broker set one. */
  readonly timestamp?: number | undefined;
  /** True when the broker or backend knows this is not the first delivery (after a nack, or a lost receiver). */
  readonly redelivered: boolean;
  /** How many times it was delivered before, when known (e.g. RabbitMQ quorum queues' `x-delivery-count`). */
  readonly deliveryCount?: number | undefined;
  /**
   * On a topic receiver, the topic it was sent with (words joined by dots; for what a plain MQTT client published,
   * the levels after the space's, see docs/routing.md); undefined on other queues.
   */
  readonly topic?: string | undefined;
  /** Where the sender wants its answer (a request's reply address, or `SendOptions.replyTo`), if anywhere. */
  readonly replyTo?: string | undefined;
  /**
   * Sends the answer to `replyTo`, with this message's correlation id (unless `options` gives one); resolves once
   * sent (on a reliable queue: once the broker confirmed it). Rejects `INVALID_ARGUMENT` when there is no
   * `replyTo`. Settling the message stays the handler's job (ack after reply).
   */
  reply(payload: Uint8Array, options?: SendOptions): Promise<void>;
  /** Tells the broker the message is done with. */
  ack(): Promise<void>;
  /** Tells the broker the message was not processed and asks for redelivery (see the backend's capabilities). */
  nack(): Promise<void>;
}

/** Metadata of a received message, as a backend hands it to `SettleOnceMessage`. */
export interface MessageMetadata {
  /** Headers; `{}` when none. */
  headers?: Readonly<Record<string, string>> | undefined;
  /** See {@link SendOptions.messageId}. */
  messageId?: string | undefined;
  /** See {@link SendOptions.correlationId}. */
  correlationId?: string | undefined;
  /** See {@link SendOptions.contentType}. */
  contentType?: string | undefined;
  /** Milliseconds since the epoch, when the sender or broker set one. */
  timestamp?: number | undefined;
  /** See {@link SendOptions.replyTo}. */
  replyTo?: string | undefined;
  /** True when this is known not to be the first delivery. */
  redelivered?: boolean | undefined;
  /** How many times it was delivered before, when the broker counts (e.g. quorum queues' `x-delivery-count`). */
  deliveryCount?: number | undefined;
  /** See {@link Message.topic}. */
  topic?: string | undefined;
}

/** Headers of a message that has none: one shared, frozen object. */
export const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
