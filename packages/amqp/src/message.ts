import type { Message } from '@mq/core';

/** A message delivered by an {@link AmqpQueue}; a second `ack()` or `nack()` is ignored. */
export class AmqpMessage implements Message {
  /** The body, byte for byte as sent. */
  readonly payload: Buffer;
  readonly #settle: (requeue: boolean) => Promise<void>;
  #settled = false;

  /** `settle(false)` acks, `settle(true)` nacks with requeue. */
  constructor(payload: Buffer, settle: (requeue: boolean) => Promise<void>) {
    this.payload = payload;
    this.#settle = settle;
  }

  /** Acks the message (`basic.ack`). Rejects with `ACK_FAILED` if its channel has died. */
  ack(): Promise<void> {
    return this.#once(false);
  }

  /** Nacks the message with requeue (`basic.nack`); the broker delivers it again. */
  nack(): Promise<void> {
    return this.#once(true);
  }

  #once(requeue: boolean): Promise<void> {
    if (this.#settled) return Promise.resolve();
    this.#settled = true;
    return this.#settle(requeue);
  }
}
