import type { SendOptions } from './send-options.js';

/** The answer to a `request()`: what the server sent back. Nothing to settle. */
export interface Reply {
  /** The body, byte for byte as the server sent it. */
  readonly payload: Buffer;
  /** The server's application headers; `{}` when none. */
  readonly headers: Readonly<Record<string, string>>;
  /** The server's message id, if any. */
  readonly messageId?: string | undefined;
  /** The request's correlation id, which the reply carried back. */
  readonly correlationId?: string | undefined;
  /** The payload's MIME type, if the server gave one. */
  readonly contentType?: string | undefined;
  /** Milliseconds since the epoch, when the server or broker set one. */
  readonly timestamp?: number | undefined;
}

/** Options of `request()`: the request's metadata (`replyTo` excepted: mq sets it), its deadline and its signal. */
export interface RequestOptions extends Omit<SendOptions, 'replyTo'> {
  /**
   * Milliseconds to wait for the reply before rejecting with `TIMEOUT`; the request also expires on the broker
   * after as long (or after `expirationMillis`, if shorter), so that a late server can skip it.
   * @default the queue's `sendTimeoutMillis`
   */
  timeoutMillis?: number;
  /** Aborting it rejects the request with `ABORTED`; a reply that comes later is dropped. */
  signal?: AbortSignal;
}
