import { type MqError, settleWithin, withDeadline } from '@mq/core/spi';
import type * as amqp from 'amqplib';
import { AckBatch } from './ack-batch.js';

/**
 * One amqplib channel of a queue and what hangs on it: the consumer, the temporary broadcast queue, sends
 * waiting for `drain`. When the channel dies, `fail()` rejects the wait for `drain`, so that no promise outlives
 * its channel (the queue rejects the sends waiting for a confirm).
 */
export class QueueChannel {
  /** amqplib's own channel object (a confirm channel for reliable senders and receivers). */
  readonly raw: amqp.Channel | amqp.ConfirmChannel;
  /** The amqplib connection the channel belongs to. */
  readonly model: amqp.ChannelModel;
  /** The acks and nacks of the deliveries on this channel, acks sent together (see `AckBatch`). */
  readonly acks: AckBatch;
  #consumerTag: string | undefined;
  #tempQueue: string | undefined;
  #brokerError: Error | undefined;
  #closed = false;
  #blocked: { promise: Promise<void>; resolve: () => void; reject: (error: MqError) => void } | undefined;
  #failure: MqError | undefined;

  /**
   * Wraps a freshly opened channel; listeners for every amqplib event that can throw are attached at once.
   * `ackFailed` makes the error of acks that could not be written (see `AckBatch`).
   */
  constructor(
    raw: amqp.Channel | amqp.ConfirmChannel,
    model: amqp.ChannelModel,
    onClose: () => void,
    ackFailed: (error: unknown) => unknown,
  ) {
    this.raw = raw;
    this.model = model;
    this.acks = new AckBatch(raw, ackFailed);
    raw.on('error', (error: Error) => {
      this.#brokerError = error;
    });
    raw.on('drain', () => this.#unblock());
    raw.on('close', () => {
      this.#closed = true;
      this.acks.close();
      onClose();
    });
    // Without 'mandatory' nothing is returned, but an unhandled 'return' must never throw inside amqplib.
    raw.on('return', () => {});
  }

  /** True once the channel has closed, for whatever reason. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The consumer tag, once consuming. */
  get consumerTag(): string | undefined {
    return this.#consumerTag;
  }

  /** The exclusive, server-named queue of a broadcast receiver, declared on this channel and not deleted yet. */
  get tempQueue(): string | undefined {
    return this.#tempQueue;
  }

  /** Why the broker closed the channel (or cancelled its consumer), if it did. */
  get brokerError(): Error | undefined {
    return this.#brokerError;
  }

  /** Records the temporary queue declared on this channel: it is deleted with the channel. */
  ownTempQueue(queue: string): void {
    this.#tempQueue = queue;
  }

  /** Records the consumer started on this channel, for `cancel()`. */
  consuming(consumerTag: string): void {
    this.#consumerTag = consumerTag;
  }

  /** The broker cancelled the consumer: closes the channel (bounded by `millis`), recording why. */
  cancelledByBroker(reason: string, millis: number): void {
    this.#brokerError ??= new Error(reason);
    void this.close(millis);
  }

  /** While a write is waiting for 'drain': a promise that resolves on it (or rejects if the channel dies). */
  blockedWait(): Promise<void> | undefined {
    if (this.#failure) return Promise.reject(this.#failure);
    return this.#blocked?.promise;
  }

  /** Records that a write returned false: later writes wait for 'drain'. */
  block(): void {
    if (this.#blocked || this.#failure) return;
    let resolve: () => void = () => {};
    let reject: (error: MqError) => void = () => {};
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A wait nobody awaits yet must not count as an unhandled rejection when the channel dies.
    promise.catch(() => {});
    this.#blocked = { promise, resolve, reject };
  }

  /** Rejects the wait for `drain` with `error`; later waits reject at once. Idempotent. */
  fail(error: MqError): void {
    this.#failure ??= error;
    this.#blocked?.reject(this.#failure);
    this.#blocked = undefined;
  }

  /** Cancels the consumer (no new deliveries; acks still work), bounded by `millis`. */
  async cancel(millis: number): Promise<void> {
    if (this.#consumerTag === undefined || this.#closed) return;
    await withDeadline(this.raw.cancel(this.#consumerTag), millis, () => new Error('basic.cancel timed out'));
  }

  /** Deletes the temporary broadcast queue, if any, then closes the channel; bounded, never throws. */
  async dispose(millis: number): Promise<void> {
    if (this.#tempQueue !== undefined && !this.#closed) {
      const queue = this.#tempQueue;
      await withDeadline(this.raw.deleteQueue(queue), millis, () => new Error('timed out')).then(
        // Deleted: nothing of this channel is left for a later open to clean up.
        () => {
          if (this.#tempQueue === queue) this.#tempQueue = undefined;
        },
        () => {},
      );
    }
    await this.close(millis);
  }

  /** Closes the channel, bounded by `millis`; never throws (a channel that is already gone is fine). */
  async close(millis: number): Promise<void> {
    if (this.#closed) return;
    await settleWithin(this.raw.close(), millis);
  }

  #unblock(): void {
    this.#blocked?.resolve();
    this.#blocked = undefined;
  }
}
