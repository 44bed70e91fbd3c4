import {
  BaseQueue,
  DEFAULT_PREFETCH,
  type Message,
  MqError,
  ownConnection,
  type PendingSend,
  type QueueOptions,
  resolveQueueOptions,
  type SendOptions,
  SettleOnceMessage,
} from '@mq/core';
import { MemoryConnection } from './connection.js';
import type { Consumer, Mailbox, StoredMeta } from './mailbox.js';

const PKG = 'mq/memory';

/** A consumer that can stop taking new deliveries while keeping its unacked ones. */
type StoppableConsumer = Consumer & { stop(): void };

/** Options of a {@link MemoryQueue}: the shared queue options. */
export interface MemoryQueueOptions extends QueueOptions {
  /**
   * Receivers only: the most unacked messages held at once, from 1 to 65535.
   * @default 100
   */
  prefetch?: number;
}

/** A queue on an in-process broker: unicast mailboxes, fan-out exchanges, prefetch, ack and nack with requeue. */
export class MemoryQueue extends BaseQueue {
  readonly #conn: MemoryConnection;
  #subscription: { mailbox: Mailbox; consumer: StoppableConsumer; unbind?: () => void } | undefined;
  /** Where each delivered message came from, so that a move can ack it together with storing its copy. */
  readonly #deliveries = new WeakMap<Message, { mailbox: Mailbox; consumer: Consumer; tag: number }>();

  /** Validates the options; the queue starts `closed`. */
  constructor(options: MemoryQueueOptions, connection: MemoryConnection) {
    const resolved = resolveQueueOptions(PKG, options, { required: false, min: 1, max: 65535 });
    const conn = ownConnection(PKG, connection, MemoryConnection);
    super(PKG, resolved, conn);
    this.#conn = conn;
  }

  protected override async open(): Promise<void> {
    const { broker } = this.#conn;
    const { name, broadcast, isRecv } = this.options;
    if (!broadcast) broker.queue(name);
    if (!isRecv) return;
    // The mailbox is known before the consumer is attached, so every delivery can be settled on it.
    const { mailbox, unbind } = broadcast
      ? broker.bindPrivate(name)
      : { mailbox: broker.queue(name), unbind: undefined };
    const prefetch = this.options.prefetch ?? DEFAULT_PREFETCH;
    let accepting = true;
    const consumer: StoppableConsumer = {
      get prefetch() {
        return accepting ? prefetch : 0;
      },
      stop: () => {
        accepting = false;
      },
      // Each delivery gets its own copy, so a handler that mutates its payload cannot touch a redelivery.
      deliver: (stored, tag) => {
        const message = new SettleOnceMessage(
          Buffer.from(stored.payload),
          (requeue) => this.#settle(mailbox, consumer, tag, requeue),
          {
            ...stored.meta,
            redelivered: stored.redelivered,
            deliveryCount: stored.deliveries,
          },
        );
        this.#deliveries.set(message, { mailbox, consumer, tag });
        this.deliver(message);
      },
    };
    this.#subscription = unbind ? { mailbox, consumer, unbind } : { mailbox, consumer };
    mailbox.consume(consumer);
  }

  /** Memory keeps every field of `SendOptions`. */
  protected override get carriesMetadata(): boolean {
    return true;
  }

  protected override publish(payload: Uint8Array, send: PendingSend, options?: SendOptions): void {
    const { broker } = this.#conn;
    if (!this.#conn.session) {
      send.reject(
        new MqError('CONNECTION_LOST', `[${PKG}] connection lost before sending to '${this.name}'`),
      );
      return;
    }
    const copy = Buffer.from(payload);
    const meta = storedMeta(options);
    if (this.options.broadcast) broker.fanOut(this.name, copy, meta);
    else broker.queue(this.name).push(copy, meta);
    // Stored in the broker's memory at once: done, reliable or not.
    send.resolve();
  }

  /** A retry goes to the back of the receiver's mailbox. */
  protected override get requeuesBehind(): boolean {
    return true;
  }

  /** A dead letter goes to the broker's mailbox of that name. */
  protected override get deadLetters(): boolean {
    return true;
  }

  protected override republish(
    to: string | undefined,
    message: Message,
    send: PendingSend,
    options: SendOptions,
  ): void {
    const delivery = this.#deliveries.get(message);
    // A retry goes back to where the original came from; the copy is stored and the original acked at once.
    const target = to === undefined ? delivery?.mailbox : this.#conn.broker.queue(to);
    const meta = { ...storedMeta(options), timestamp: message.timestamp ?? Date.now() };
    const moved =
      target !== undefined &&
      delivery !== undefined &&
      this.#conn.session !== undefined &&
      delivery.mailbox.move(delivery.consumer, delivery.tag, target, Buffer.from(message.payload), meta);
    if (!moved) {
      send.reject(
        new MqError(
          'CONNECTION_LOST',
          `[${PKG}] queue '${this.name}' no longer holds the message (its link dropped): copy not stored, the original comes again`,
        ),
      );
      return;
    }
    send.resolve();
  }

  protected override async stopReceiving(): Promise<void> {
    this.#subscription?.consumer.stop();
  }

  protected override async release(): Promise<void> {
    this.#unsubscribe();
  }

  protected override onLinkDown(): void {
    this.#unsubscribe();
  }

  #unsubscribe(): void {
    const subscription = this.#subscription;
    this.#subscription = undefined;
    if (!subscription) return;
    subscription.mailbox.cancel(subscription.consumer);
    subscription.unbind?.();
  }

  #settle(mailbox: Mailbox, consumer: Consumer, tag: number, requeue: boolean): Promise<void> {
    // The mailbox the consumer was attached to knows whether it still holds this delivery; the queue's current
    // subscription has nothing to say about it.
    if (!mailbox.settle(consumer, tag, requeue)) {
      return Promise.reject(
        new MqError(
          'ACK_FAILED',
          `[${PKG}] cannot ${requeue ? 'nack' : 'ack'} on '${this.name}': its consumer is gone; the broker will redeliver it`,
        ),
      );
    }
    return Promise.resolve();
  }
}

/** What the mailbox keeps of a send's options, stamped now. */
function storedMeta(options: SendOptions | undefined): StoredMeta {
  const now = Date.now();
  return {
    headers: options?.headers,
    messageId: options?.messageId,
    correlationId: options?.correlationId,
    contentType: options?.contentType,
    timestamp: now,
    expiresAt: options?.expirationMillis === undefined ? undefined : now + options.expirationMillis,
  };
}
