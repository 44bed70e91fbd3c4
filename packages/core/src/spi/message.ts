import { MqError } from '../api/errors.js';
import { type Message, type MessageMetadata, NO_HEADERS } from '../api/message.js';
import { republishedDeliveries } from '../api/mq-headers.js';
import type { SendOptions } from '../api/send-options.js';

/**
 * One promise, already resolved, for work that finished synchronously: a backend's `publish()` that returns it
 * costs no tracking (there is nothing for `close()` to wait for and no deadline to watch), and neither does a
 * handler that returns it (an `ack()` with nothing left to do). Hot paths return it instead of a new promise.
 */
export const SETTLED: Promise<void> = Promise.resolve();

/** Sends `message`'s answer (see `SettleOnceMessage.bindReplier`). @internal */
export type Replier = (
  message: SettleOnceMessage,
  payload: Uint8Array,
  options: SendOptions | undefined,
) => Promise<void>;

/**
 * A received message whose first `ack()` or `nack()` settles it; later calls resolve and do nothing (settling
 * twice would close an AMQP channel, for instance). For backends: give it the bytes and one `settle` function.
 */
export class SettleOnceMessage<T = Buffer> implements Message<T> {
  /** The bytes, exactly as sent. */
  readonly payload: Buffer;
  /** Application headers; `{}` when none. */
  readonly headers: Readonly<Record<string, string>>;
  /** The sender's message id, if any. */
  readonly messageId: string | undefined;
  /** The sender's correlation id, if any. */
  readonly correlationId: string | undefined;
  /** The payload's MIME type, if the sender gave one. */
  readonly contentType: string | undefined;
  /** Milliseconds since the epoch, when the sender or broker set one. */
  readonly timestamp: number | undefined;
  /** Where the sender wants its answer, if anywhere. */
  readonly replyTo: string | undefined;
  /** True when this is known not to be the first delivery (also for a copy mq's failure policy retried). */
  readonly redelivered: boolean;
  /** Earlier deliveries, when known: the broker's count, plus those before a retried copy was published. */
  readonly deliveryCount: number | undefined;
  /** The topic it was sent with, on a topic receiver. */
  readonly topic: string | undefined;
  readonly #settle: (requeue: boolean) => Promise<void>;
  /** The decoded body; the payload until core decodes it. */
  #body: unknown;
  #settled = false;
  #onSettle: (() => void) | undefined;
  #replier: Replier | undefined;

  /** `settle(false)` acks, `settle(true)` nacks (asks for redelivery); `meta` is what the broker said of it. */
  constructor(payload: Buffer, settle: (requeue: boolean) => Promise<void>, meta?: MessageMetadata) {
    this.payload = payload;
    this.#body = payload;
    this.#settle = settle;
    this.headers = meta?.headers ?? NO_HEADERS;
    this.messageId = meta?.messageId;
    this.correlationId = meta?.correlationId;
    this.contentType = meta?.contentType;
    this.timestamp = meta?.timestamp;
    this.topic = meta?.topic;
    this.replyTo = meta?.replyTo;
    // Only a message with headers can be a retried copy (most have none: no lookup then).
    const before = this.headers === NO_HEADERS ? undefined : republishedDeliveries(this.headers);
    if (before === undefined) {
      this.redelivered = meta?.redelivered ?? false;
      this.deliveryCount = meta?.deliveryCount;
    } else {
      // A copy the failure policy published: the broker's count of its own deliveries comes on top of those
      // before it was published.
      this.redelivered = true;
      // A bare `redelivered` of a copy is not counted: the copy may have waited for its time, unseen by any
      // handler, when its receiver went away.
      this.deliveryCount = before + (meta?.deliveryCount ?? 0);
    }
  }

  /** The decoded body (see the queue option `codec`); the payload itself for `'bytes'`. */
  get body(): T {
    return this.#body as T;
  }

  /**
   * Sets the decoded body, before the handler sees the message.
   * @internal
   */
  decoded(body: unknown): void {
    this.#body = body;
  }

  /** True once `ack()` or `nack()` was called. */
  get settled(): boolean {
    return this.#settled;
  }

  /** Sends the answer to `replyTo` with this message's correlation id; `INVALID_ARGUMENT` without `replyTo`. */
  reply(payload: Uint8Array, options?: SendOptions): Promise<void> {
    if (this.#replier)
      return this.#replier(this as SettleOnceMessage<unknown> as SettleOnceMessage, payload, options);
    return Promise.reject(
      this.replyTo === undefined
        ? new MqError('INVALID_ARGUMENT', '[mq/core] reply(): this message has no replyTo')
        : new MqError('UNSUPPORTED', '[mq/core] reply(): this message was not delivered through a receiver'),
    );
  }

  /**
   * Core's receive path: how `reply()` sends, through the receiver the message came from (one function per
   * receiver, so that binding costs a field per message).
   * @internal
   */
  bindReplier(replier: Replier): void {
    this.#replier = replier;
  }

  /** Tells the broker the message is done with. */
  ack(): Promise<void> {
    return this.#once(false);
  }

  /** Asks for redelivery (what that means depends on the backend's `nackRequeue` capability). */
  nack(): Promise<void> {
    return this.#once(true);
  }

  /**
   * Calls `listener` once, at the first `ack()` or `nack()` (for core's failure policy: one listener at a time).
   * @internal
   */
  onceSettled(listener: (() => void) | undefined): void {
    this.#onSettle = listener;
  }

  /**
   * Takes the message over from its handler: the public `ack()` and `nack()` do nothing from now on, and the
   * returned function settles it (once). Undefined when it was settled already.
   * @internal
   */
  claim(): ((requeue: boolean) => Promise<void>) | undefined {
    if (this.#settled) return undefined;
    this.#markSettled();
    let used = false;
    return (requeue) => {
      if (used) return SETTLED;
      used = true;
      return this.#call(requeue);
    };
  }

  #once(requeue: boolean): Promise<void> {
    if (this.#settled) return SETTLED;
    this.#markSettled();
    return this.#call(requeue);
  }

  #markSettled(): void {
    this.#settled = true;
    if (this.#onSettle) {
      const listener = this.#onSettle;
      this.#onSettle = undefined;
      listener();
    }
  }

  /** The backend's settle, as a promise even when it throws. */
  #call(requeue: boolean): Promise<void> {
    try {
      return this.#settle(requeue);
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/** What a backend hands to `deliver()`: a {@link Message}, whose metadata fields a backend written before them may lack. */
export type DeliveredMessage = Omit<Message, 'headers' | 'redelivered' | 'reply' | 'body'> &
  Partial<Pick<Message, 'headers' | 'redelivered' | 'reply' | 'body'>>;

/**
 * A copy of `message` (its payload and every metadata field, `{}` headers and `redelivered: false` where it has
 * none) whose `ack()` and `nack()` are `ack` and `nack`.
 * @internal
 */
export function settledBy<T = Buffer>(
  message: DeliveredMessage | Message<T>,
  ack: () => Promise<void>,
  nack: () => Promise<void>,
): Message<T> {
  return {
    payload: message.payload,
    body: ('body' in message ? message.body : message.payload) as T,
    headers: message.headers ?? NO_HEADERS,
    messageId: message.messageId,
    correlationId: message.correlationId,
    contentType: message.contentType,
    timestamp: message.timestamp,
    replyTo: message.replyTo,
    redelivered: message.redelivered ?? false,
    deliveryCount: message.deliveryCount,
    topic: message.topic,
    reply: (payload, options) =>
      message.reply
        ? message.reply(payload, options)
        : Promise.reject(new MqError('UNSUPPORTED', '[mq/core] reply(): this message cannot be answered')),
    ack,
    nack,
  };
}
