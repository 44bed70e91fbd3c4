import {
  LegacyBaseQueue,
  type Message,
  ownConnection,
  type PendingSend,
  type QueueOptions,
  resolveQueueOptions,
  type SendOptions,
  SettleOnceMessage,
} from '@mq/core/spi';
import { MemoryConnection } from './connection.js';
import { errors } from './errors.js';
import type { Consumer, Mailbox, StoredMeta } from './mailbox.js';

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
export class MemoryQueue extends LegacyBaseQueue {
  readonly #conn: MemoryConnection;
  #subscription: { mailbox: Mailbox; consumer: StoppableConsumer; unbind?: () => void } | undefined;

  /** Validates the options; the queue starts `closed`. */
  constructor(options: MemoryQueueOptions, connection: MemoryConnection) {
    const resolved = resolveQueueOptions<MemoryQueueOptions>(errors, options, {}).options;
    const conn = ownConnection(errors, connection, MemoryConnection);
    super(errors, resolved, conn);
    this.#conn = conn;
  }

  protected override async open(): Promise<void> {
    const { broker } = this.#conn;
    const { options } = this;
    const { name, broadcast } = options;
    if (!broadcast) broker.queue(name);
    if (!options.isRecv) return;
    // The mailbox is known before the consumer is attached, so every delivery can be settled on it.
    const { mailbox, unbind } = broadcast
      ? broker.bindPrivate(name)
      : { mailbox: broker.queue(name), unbind: undefined };
    const { prefetch } = options;
    let accepting = true;
    const consumer: StoppableConsumer = {
      get prefetch() {
        return accepting ? prefetch : 0;
      },
      stop: () => {
        accepting = false;
      },
      // Each delivery gets its own copy, so a handler that mutates its payload cannot touch a redelivery.
      deliver: (stored, tag) =>
        this.deliver(
          new SettleOnceMessage(
            Buffer.from(stored.payload),
            (requeue) => this.#settle(mailbox, consumer, tag, requeue),
            {
              ...stored.meta,
              redelivered: stored.redelivered,
              deliveryCount: stored.deliveries,
            },
          ),
        ),
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
      send.reject(errors.error('CONNECTION_LOST', `connection lost before sending to '${this.name}'`));
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
    const mailbox = to === undefined ? this.#subscription?.mailbox : this.#conn.broker.queue(to);
    if (!mailbox || !this.#conn.session) {
      send.reject(errors.error('CONNECTION_LOST', `queue '${this.name}' lost its mailbox: copy not stored`));
      return;
    }
    mailbox.push(Buffer.from(message.payload), {
      ...storedMeta(options),
      timestamp: message.timestamp ?? Date.now(),
    });
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
        errors.error(
          'ACK_FAILED',
          `cannot ${requeue ? 'nack' : 'ack'} on '${this.name}': its consumer is gone; the broker will redeliver it`,
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
