import type { Message } from './types.js';

/**
 * A received message whose first `ack()` or `nack()` settles it; later calls resolve and do nothing (settling
 * twice would close an AMQP channel, for instance). For backends: give it the bytes and one `settle` function.
 */
export class SettleOnceMessage implements Message {
  /** The body, byte for byte as sent. */
  readonly payload: Buffer;
  readonly #settle: (requeue: boolean) => Promise<void>;
  #settled = false;

  /** `settle(false)` acks, `settle(true)` nacks (asks for redelivery). */
  constructor(payload: Buffer, settle: (requeue: boolean) => Promise<void>) {
    this.payload = payload;
    this.#settle = settle;
  }

  /** Tells the broker the message is done with. */
  ack(): Promise<void> {
    return this.#once(false);
  }

  /** Asks for redelivery (what that means depends on the backend's `nackRequeue` capability). */
  nack(): Promise<void> {
    return this.#once(true);
  }

  #once(requeue: boolean): Promise<void> {
    if (this.#settled) return Promise.resolve();
    this.#settled = true;
    return this.#settle(requeue);
  }
}
