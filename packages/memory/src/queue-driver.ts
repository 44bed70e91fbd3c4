import { randomUUID } from 'node:crypto';
import {
  type Message,
  type MessageMetadata,
  NO_HEADERS,
  type PendingSend,
  type QueueCore,
  type QueueDriver,
  type ResolvedReceiverOptions,
  SETTLED,
  type SendOptions,
  SettleOnceMessage,
} from '@mq/core/spi';
import { type MemoryBroker, REPLY_PREFIX } from './broker.js';
import { errors } from './errors.js';
import type { MemoryLink } from './link.js';
import type { Consumer, Mailbox, Stored, StoredMeta } from './mailbox.js';

/** A consumer that can stop taking new deliveries while keeping its unacked ones: its `prefetch` drops to 0. */
type StoppableConsumer = Consumer & { prefetch: number; stop(): void };

/**
 * One `connect()`..`closed` cycle of a `MemoryQueue`: unicast names are mailboxes of the broker, broadcast names
 * fan-out exchanges with a private mailbox per receiver; a receiver consumes with its prefetch.
 */
export class MemoryQueueDriver implements QueueDriver {
  readonly #core: QueueCore;
  readonly #link: MemoryLink;
  #subscription: { mailbox: Mailbox; consumer: StoppableConsumer; unbind?: () => void } | undefined;
  /** Where each delivered message came from, so that a move can ack it together with storing its copy. */
  readonly #deliveries = new WeakMap<Message, { mailbox: Mailbox; consumer: Consumer; tag: number }>();
  /** A sender's reply address once a request made one, and what stops listening there. */
  #replies: { address: string; stop: () => void } | undefined;

  constructor(core: QueueCore, link: MemoryLink) {
    this.#core = core;
    this.#link = link;
  }

  async open(): Promise<void> {
    const { broker } = this.#link;
    const { options } = this.#core;
    const { name, broadcast } = options;
    const topic = options.routing === 'topic';
    if (!broadcast && !topic) broker.queue(name);
    this.#stopReplies();
    if (!options.isRecv) return;
    // The mailbox is known before the consumer is attached, so every delivery can be settled on it.
    const { mailbox, unbind } = topic
      ? topicMailbox(broker, options)
      : broadcast
        ? broker.bindPrivate(name)
        : { mailbox: broker.queue(name), unbind: undefined };
    const consumer: StoppableConsumer = {
      prefetch: options.prefetch,
      stop: () => {
        consumer.prefetch = 0;
      },
      // Each delivery gets its own copy, so a handler that mutates its payload cannot touch a redelivery.
      deliver: (stored, tag) => {
        const message = new SettleOnceMessage(
          Buffer.from(stored.payload),
          (requeue) => this.#settle(mailbox, consumer, tag, requeue),
          deliveryMeta(stored),
        );
        this.#deliveries.set(message, { mailbox, consumer, tag });
        this.#core.deliver(message);
      },
    };
    this.#subscription = unbind ? { mailbox, consumer, unbind } : { mailbox, consumer };
    mailbox.consume(consumer);
  }

  publish(payload: Uint8Array, send: PendingSend, options: SendOptions | undefined): void {
    const { broker } = this.#link;
    const { name, broadcast } = this.#core.options;
    if (!this.#link.session) {
      send.reject(errors.error('CONNECTION_LOST', `connection lost before sending to '${name}'`));
      return;
    }
    const copy = Buffer.from(payload);
    const meta = storedMeta(options);
    if (this.#core.options.routing === 'topic') broker.publishTopic(name, options?.topic ?? '', copy, meta);
    else if (broadcast) broker.fanOut(name, copy, meta);
    else broker.queue(name).push(copy, meta);
    // Stored in the broker's memory at once: done, reliable or not.
    send.resolve();
  }

  /**
   * A retry goes to the back of the mailbox the original came from; a dead letter to the broker's mailbox of that
   * name. Either way the copy is stored and the original acked in one mailbox step (`Mailbox.move`), so a link
   * lost between the two cannot hand out both (`movesExactlyOnce`).
   */
  republish(to: string | undefined, message: Message, send: PendingSend, options: SendOptions): void {
    const delivery = this.#deliveries.get(message);
    const target = to === undefined ? delivery?.mailbox : this.#link.broker.queue(to);
    // A retry keeps its topic; a dead letter goes to a named queue, where messages have none.
    const meta = {
      ...storedMeta(options),
      timestamp: message.timestamp ?? Date.now(),
      topic: to === undefined ? message.topic : undefined,
    };
    const moved =
      target !== undefined &&
      delivery !== undefined &&
      this.#link.session !== undefined &&
      delivery.mailbox.move(delivery.consumer, delivery.tag, target, Buffer.from(message.payload), meta);
    if (!moved) {
      send.reject(
        errors.error(
          'CONNECTION_LOST',
          `queue '${this.#core.options.name}' no longer holds the message (its link dropped): copy not stored, the original comes again`,
        ),
      );
      return;
    }
    send.resolve();
  }

  /** A reply address of this sender's own, made on the first request after each `open()`. */
  replyAddress(): string {
    if (this.#replies) return this.#replies.address;
    if (!this.#link.session) {
      throw errors.error(
        'CONNECTION_LOST',
        `connection lost before requesting on '${this.#core.options.name}'`,
      );
    }
    const address = `${REPLY_PREFIX}${randomUUID()}`;
    const stop = this.#link.broker.listenReplies(address, (payload, meta) =>
      this.#core.deliverReply({
        payload: Buffer.from(payload),
        headers: meta.headers ?? NO_HEADERS,
        messageId: meta.messageId,
        correlationId: meta.correlationId,
        contentType: meta.contentType,
        timestamp: meta.timestamp,
      }),
    );
    this.#replies = { address, stop };
    return address;
  }

  reply(to: string, payload: Uint8Array, send: PendingSend, options: SendOptions): void {
    if (!this.#link.session) {
      send.reject(errors.error('CONNECTION_LOST', `connection lost before replying to '${to}'`));
      return;
    }
    this.#link.broker.sendReply(to, Buffer.from(payload), storedMeta(options));
    send.resolve();
  }

  /** The consumer is on its mailbox, over a live session. */
  attached(): boolean {
    const subscription = this.#subscription;
    return (
      subscription !== undefined &&
      this.#link.session !== undefined &&
      subscription.mailbox.has(subscription.consumer)
    );
  }

  async stopReceiving(): Promise<void> {
    this.#subscription?.consumer.stop();
  }

  async release(): Promise<void> {
    this.#unsubscribe();
    this.#stopReplies();
  }

  linkDown(): void {
    this.#unsubscribe();
    this.#stopReplies();
  }

  #stopReplies(): void {
    this.#replies?.stop();
    this.#replies = undefined;
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
          `cannot ${requeue ? 'nack' : 'ack'} on '${this.#core.options.name}': its consumer is gone; the broker will redeliver it`,
        ),
      );
    }
    // Done at once: the promise every settled step shares, so a handler returning it costs no tracking.
    return SETTLED;
  }
}

/** A topic receiver's mailbox: its group's (durable, shared) or, for broadcast, a private one of its own. */
function topicMailbox(
  broker: MemoryBroker,
  options: ResolvedReceiverOptions,
): { mailbox: Mailbox; unbind: (() => void) | undefined } {
  const topics = options.topics ?? [];
  if (options.broadcast) return broker.bindTopicPrivate(options.name, topics);
  return { mailbox: broker.topicGroup(options.name, options.group ?? '', topics), unbind: undefined };
}

/** A delivery's metadata, field by field (a spread of the stored metadata cost about 1 µs per delivery). */
function deliveryMeta(stored: Stored): MessageMetadata {
  const { meta } = stored;
  return {
    headers: meta.headers ?? NO_HEADERS,
    messageId: meta.messageId,
    correlationId: meta.correlationId,
    contentType: meta.contentType,
    replyTo: meta.replyTo,
    timestamp: meta.timestamp,
    redelivered: stored.redelivered,
    deliveryCount: stored.deliveries,
    topic: meta.topic,
  };
}

/** What the mailbox keeps of a send's options, stamped now. */
function storedMeta(options: SendOptions | undefined): StoredMeta {
  const now = Date.now();
  return {
    headers: options?.headers,
    messageId: options?.messageId,
    correlationId: options?.correlationId,
    contentType: options?.contentType,
    replyTo: options?.replyTo,
    timestamp: now,
    expiresAt: options?.expirationMillis === undefined ? undefined : now + options.expirationMillis,
    topic: options?.topic,
  };
}
