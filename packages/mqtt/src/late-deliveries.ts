import { type MessageMetadata, SettleOnceMessage } from '@mq/core/spi';
import type { MqttMessage } from './message.js';

/** The deliveries that reach a receiver after it began to close, so that its close can wait until they are settled. */
export class LateDeliveries {
  /** Messages delivered since the close began. */
  delivered = 0;
  readonly #unsettled = new Set<MqttMessage>();
  #wake: (() => void) | undefined;

  /** Builds the message of one delivery (with its metadata), counted until it is acked or nacked. */
  track(
    payload: Buffer,
    qos: number,
    meta: MessageMetadata,
    ack: () => Promise<void>,
    nack: () => Promise<void>,
  ): MqttMessage {
    this.delivered += 1;
    const message: MqttMessage = new SettleOnceMessage(
      payload,
      (requeue) => this.#settle(message, requeue ? nack : ack),
      meta,
    );
    if (qos > 0) this.#unsettled.add(message);
    return message;
  }

  /** Stops waiting for the messages delivered so far (their handlers have returned, settled or not). */
  forgetEarlier(): void {
    this.#unsettled.clear();
  }

  /** Resolves true once every tracked message is settled, false at `deadline`. */
  async settled(deadline: number): Promise<boolean> {
    while (this.#unsettled.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
    return true;
  }

  #settle(message: MqttMessage, settle: () => Promise<void>): Promise<void> {
    const settling = settle();
    this.#unsettled.delete(message);
    if (this.#unsettled.size === 0) this.#wake?.();
    return settling;
  }
}
