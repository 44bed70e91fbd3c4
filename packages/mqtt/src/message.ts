import type { Message } from '@mq/core';

/** A message delivered by an {@link MqttQueue}; settling it twice is ignored. */
export class MqttMessage implements Message {
  /** The body, byte for byte as sent. */
  readonly payload: Buffer;
  readonly #ack: () => Promise<void>;
  readonly #nack: () => Promise<void>;
  #settled = false;

  /** `ack` sends the PUBACK (QoS 1); `nack` hands the message to the receiver's handler again. */
  constructor(payload: Buffer, ack: () => Promise<void>, nack: () => Promise<void>) {
    this.payload = payload;
    this.#ack = ack;
    this.#nack = nack;
  }

  /** Sends the PUBACK of a QoS 1 message (nothing to do for QoS 0). */
  ack(): Promise<void> {
    return this.#once(this.#ack);
  }

  /** Redelivers the message to this receiver's handler; its PUBACK waits for a later `ack()`. */
  nack(): Promise<void> {
    return this.#once(this.#nack);
  }

  #once(settle: () => Promise<void>): Promise<void> {
    if (this.#settled) return Promise.resolve();
    this.#settled = true;
    return settle();
  }
}
