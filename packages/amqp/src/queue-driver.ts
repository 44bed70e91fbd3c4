import {
  hasMetadata,
  type Message,
  type MqError,
  NO_HEADERS,
  type PendingSend,
  type QueueCore,
  type QueueDriver,
  SETTLED,
  type SendOptions,
  SettleOnceMessage,
} from '@mq/core/spi';
import type * as amqp from 'amqplib';
import { isBrokerNack } from './amqplib-internals.js';
import { watchBinding } from './binding-watch.js';
import { errors } from './errors.js';
import type { AmqpLink } from './link.js';
import type { ResolvedAmqpQueueOptions } from './options.js';
import { deliveryMetadata, publishOptions, withoutReserved } from './properties.js';
import { QueueChannel } from './queue-channel.js';
import { declareTopic, deliveryTopic, groupQueueName, TOPIC_HEADER } from './topic-topology.js';
import { deadLetterTopology, declare, declareError, route, type Topology } from './topology.js';

/**
 * Frames amqplib buffers per channel before `publish()` returns false and sends wait for 'drain': amqplib's own
 * default, as a raw amqplib app has it. 128 (at most 16 MiB of 128 KiB frames instead of 128 MiB) made awaited
 * best-effort sends 2-2.7x slower than amqplib's (a 'drain' round trip every 128 frames; `pnpm bench` sends/s).
 */
const WRITE_BUFFER_FRAMES = 1024;

/**
 * The largest message RabbitMQ takes at all, whatever its `max_message_size` (which may not be set above it): a
 * larger payload is refused before it is sent, rather than let the broker close the channel over it.
 */
export const MAX_MESSAGE_BYTES = 536_870_912;

/** RabbitMQ's reason for closing a channel over a message above its `max_message_size`. */
const TOO_LARGE = /message size (\d+) is larger than configured max size (\d+)/;

/** The failure policy's copies (retries, dead letters) are persistent: a broker restart must not lose them. */
const COPY_OPTIONS: amqp.Options.Publish = Object.freeze({ deliveryMode: 2 });

/**
 * RabbitMQ's direct reply-to pseudo-queue: a requester consumes it (no-ack) on the channel it publishes its
 * requests on, and the broker routes each reply straight to that consumer; nothing is declared, nothing is left
 * behind, and the consumer goes with its channel.
 */
export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

/** A reply's publish options: transient (direct reply-to keeps nothing; an app's own reply queue may). */
const REPLY_OPTIONS: amqp.Options.Publish = Object.freeze({});

/**
 * The temporary broadcast queue of a channel the broker closed while the connection stayed up: an exclusive
 * queue lives as long as its connection and, still bound, fills up with every broadcast. Kept per queue, across
 * its `connect()` cycles, until an open on the same connection deletes it.
 */
export interface StaleTempQueue {
  value: { model: amqp.ChannelModel; queue: string } | undefined;
}

/**
 * One `connect()`..`closed` cycle of an `AmqpQueue`, on a channel of its own: unicast is a durable queue,
 * broadcast a fanout exchange with an exclusive queue per receiver. Reliable senders use a confirm channel and
 * resolve each send on the broker's `basic.ack`; receivers use `basic.qos(prefetch)` and manual acks.
 */
export class AmqpQueueDriver implements QueueDriver {
  readonly #core: QueueCore<ResolvedAmqpQueueOptions>;
  readonly #link: AmqpLink;
  readonly #stale: StaleTempQueue;
  /** What this queue declares on the broker. */
  readonly #topology: Topology;
  /** Where every message goes. */
  readonly #route: { exchange: string; routingKey: string };
  /** amqplib's publish options, shared by every send: amqplib only reads them. */
  readonly #publishOptions: amqp.Options.Publish;
  #channel: QueueChannel | undefined;
  /** The channel whose direct reply-to consumer is up (or being set up) for this sender's requests. */
  #replies: { channel: QueueChannel; ready: Promise<string>; consuming: boolean } | undefined;

  constructor(core: QueueCore<ResolvedAmqpQueueOptions>, link: AmqpLink, stale: StaleTempQueue) {
    this.#core = core;
    this.#link = link;
    this.#stale = stale;
    const { options } = core;
    this.#topology = Object.freeze({
      broadcast: options.broadcast,
      isRecv: options.isRecv,
      name: options.name,
      queueType: options.queueType,
      deliveryLimit: options.deliveryLimit,
      declare: options.declare,
      arguments: options.arguments,
    });
    this.#route = options.routing === 'topic' ? { exchange: options.name, routingKey: '' } : route(options);
    this.#publishOptions = { deliveryMode: options.persistent ? 2 : 1 };
  }

  get #name(): string {
    return this.#core.options.name;
  }

  async open(): Promise<void> {
    this.#channel = undefined;
    const model = this.#link.channelModel;
    if (!model) {
      throw errors.error('NOT_CONNECTED', `connection lost before queue '${this.#name}' opened`);
    }
    const { options } = this.#core;
    // Receivers too: the failure policy's copies (retries, dead letters) are confirmed before the original is acked.
    const confirm = options.isRecv || options.reliable;
    const channelOptions = { highWaterMark: WRITE_BUFFER_FRAMES };
    const raw = confirm
      ? await model.createConfirmChannel(channelOptions)
      : await model.createChannel(channelOptions);
    const channel: QueueChannel = new QueueChannel(
      raw,
      model,
      () => this.#onChannelClose(channel),
      (error) => (channel.closed ? this.#channelGone('ack') : this.#refused(channel, 'ack', error)),
    );
    /** The queue being declared, for the error of a declaration the broker refuses. */
    let declaring = this.#name;
    try {
      await this.#dropStaleTemp(raw, model);
      const queue = await this.#declare(raw);
      const deadLetter = options.isRecv ? options.failure.deadLetter : undefined;
      if (deadLetter !== undefined) {
        declaring = deadLetter;
        await declare(raw, deadLetterTopology(deadLetter));
        declaring = this.#name;
      }
      if (options.isRecv && queue !== undefined) {
        if (options.broadcast || (options.routing === 'topic' && options.group === undefined))
          channel.ownTempQueue(queue);
        await raw.prefetch(options.prefetch);
        const { consumerTag } = await raw.consume(queue, (delivery) => this.#onDelivery(channel, delivery), {
          noAck: false,
        });
        channel.consuming(consumerTag);
        if (options.broadcast) {
          watchBinding(model, channel, this.#topology, queue, (error) => this.#core.reportError(error));
        }
      }
    } catch (error) {
      await channel.close(this.#millis);
      channel.fail(this.#lost('opening failed'));
      throw declareError(
        declaring,
        channel.brokerError ?? error,
        declaring === this.#name ? undefined : 'deadLetter',
      );
    }
    if (channel.closed) {
      throw errors.wrap(
        channel.brokerError ?? new Error('channel closed'),
        'BROKER',
        `the channel of queue '${this.#name}' closed while opening`,
      );
    }
    this.#channel = channel;
  }

  republish(to: string | undefined, message: Message, send: PendingSend, options: SendOptions): void {
    // On the channel the message came on (the only one that can ack it after), also while the queue opens.
    const channel = message instanceof AmqpDelivery ? AmqpDelivery.channelOf(message) : this.#channel;
    const { options: queueOptions } = this.#core;
    const own =
      queueOptions.routing === 'topic' && queueOptions.group !== undefined
        ? groupQueueName(this.#name, queueOptions.group)
        : this.#name;
    const routingKey = to ?? (queueOptions.broadcast ? channel?.tempQueue : own);
    if (!channel || channel.closed || routingKey === undefined) {
      send.reject(this.#lost('the channel the message came on is gone; copy not published'));
      return;
    }
    // A retry of a topic message goes through the default exchange: its topic travels in a header.
    const topic = to === undefined ? message.topic : undefined;
    const kept = withoutReserved(options.headers);
    const headers = topic === undefined ? kept : { ...kept, [TOPIC_HEADER]: topic };
    const publish = publishOptions(COPY_OPTIONS, headers === undefined ? options : { ...options, headers });
    const raw = channel.raw as amqp.ConfirmChannel;
    const copy = (): void => {
      try {
        raw.publish('', routingKey, message.payload, publish, (error: unknown) =>
          this.#confirmed(send, error),
        );
      } catch (error) {
        send.reject(this.#lost('the channel closed; copy not published', error));
      }
    };
    if (to === undefined) {
      copy();
      return;
    }
    // Declared again first (only dead letters, which are rare): an operator may have deleted the queue since the
    // receiver opened, and a copy routed to no queue would be confirmed, and lost.
    declare(raw, deadLetterTopology(to)).then(copy, (error: unknown) =>
      send.reject(this.#lost(`declaring dead-letter queue '${to}' failed; copy not published`, error)),
    );
  }

  /**
   * Direct reply-to on the sender's own channel (RabbitMQ requires the consumer on the channel that publishes the
   * requests): consumed once per channel, on the first request, again on the first one after a new channel.
   */
  replyAddress(): string | Promise<string> {
    const channel = this.#channel;
    if (!channel || channel.closed) {
      return Promise.reject(this.#lost('the channel is gone; request not sent'));
    }
    const replies = this.#replies;
    if (replies?.channel === channel) return replies.consuming ? DIRECT_REPLY_TO : replies.ready;
    const ready = channel.raw
      .consume(DIRECT_REPLY_TO, (delivery) => this.#onReply(delivery), { noAck: true })
      .then(() => {
        entry.consuming = true;
        return DIRECT_REPLY_TO;
      });
    const entry = { channel, ready, consuming: false };
    this.#replies = entry;
    // A failed consume is tried again by the next request (the channel, if the broker closed it, is renewed).
    ready.catch(() => {
      if (this.#replies?.ready === ready) this.#replies = undefined;
    });
    return ready;
  }

  /**
   * A reply to `to` (a direct reply-to address, or an app's own queue) through the default exchange, on this
   * receiver's channel; confirmed on a reliable receiver.
   */
  reply(to: string, payload: Uint8Array, send: PendingSend, options: SendOptions): void {
    const channel = this.#channel;
    if (!channel || channel.closed) {
      send.reject(this.#lost('the channel is gone; reply not sent'));
      return;
    }
    const content = Buffer.isBuffer(payload)
      ? payload
      : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    const publish = publishOptions(REPLY_OPTIONS, options);
    const confirm = this.#core.options.reliable;
    try {
      // Receivers' channels are confirm channels (for the failure policy's copies): the callback always comes.
      (channel.raw as amqp.ConfirmChannel).publish('', to, content, publish, (error: unknown) => {
        if (confirm) this.#confirmed(send, error);
      });
    } catch (error) {
      send.reject(this.#lost('the channel closed; reply not sent', error));
      return;
    }
    if (!confirm) send.resolve();
  }

  #onReply(delivery: amqp.ConsumeMessage | null): void {
    if (delivery === null) return;
    const meta = deliveryMetadata(delivery);
    this.#core.deliverReply({
      payload: delivery.content,
      headers: meta.headers ?? NO_HEADERS,
      messageId: meta.messageId,
      correlationId: meta.correlationId,
      contentType: meta.contentType,
      timestamp: meta.timestamp,
    });
  }

  publish(payload: Uint8Array, send: PendingSend, options: SendOptions | undefined): void {
    if (payload.byteLength > MAX_MESSAGE_BYTES) {
      send.reject(
        errors.argument(
          `payload of ${payload.byteLength} bytes is over the ${MAX_MESSAGE_BYTES} bytes (512 MiB) RabbitMQ takes in one message, whatever its max_message_size: message not sent to '${this.#name}'`,
        ),
      );
      return;
    }
    const channel = this.#channel;
    if (!channel || channel.closed) {
      send.reject(this.#lost('the channel is gone; message not sent'));
      return;
    }
    if (
      options?.replyTo === DIRECT_REPLY_TO &&
      !(this.#replies?.channel === channel && this.#replies.consuming)
    ) {
      // RabbitMQ closes a channel that publishes with this replyTo and does not consume direct reply-to itself.
      send.reject(
        errors.argument(
          `replyTo '${DIRECT_REPLY_TO}' needs a consumer of it on the sending channel: use request() on '${this.#name}'`,
        ),
      );
      return;
    }
    const blocked = channel.blockedWait();
    if (blocked) {
      blocked.then(
        () => {
          // Settled while it waited (TIMEOUT at its deadline, say): the app was told it failed, so it must never
          // go out now, after a memory alarm has lifted, say.
          if (send.settled) return;
          if (channel.closed || this.#channel !== channel)
            send.reject(this.#lost('the channel closed; message not sent'));
          else this.#publishNow(channel, payload, send, options);
        },
        (error: unknown) => send.reject(error),
      );
    } else {
      this.#publishNow(channel, payload, send, options);
    }
  }

  /** Not copied here: amqplib copies small bodies into its frame and writes larger ones as they are. */
  #publishNow(
    channel: QueueChannel,
    payload: Uint8Array,
    send: PendingSend,
    options: SendOptions | undefined,
  ): void {
    const content = Buffer.isBuffer(payload)
      ? payload
      : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    const { exchange } = this.#route;
    const topic = options?.topic;
    const routingKey = topic ?? this.#route.routingKey;
    // Without metadata (a topic alone, say) the queue's shared publish options serve.
    const publish = hasMetadata(options)
      ? publishOptions(this.#publishOptions, options)
      : this.#publishOptions;
    const { reliable } = this.#core.options;
    let written: boolean;
    try {
      written = reliable
        ? (channel.raw as amqp.ConfirmChannel).publish(
            exchange,
            routingKey,
            content,
            publish,
            (error: unknown) => this.#confirmed(send, error, channel, content.byteLength),
          )
        : channel.raw.publish(exchange, routingKey, content, publish);
    } catch (error) {
      send.reject(this.#lost('the channel closed; message not sent', error));
      return;
    }
    if (!written) channel.block();
    if (reliable) return;
    // Best effort: done once amqplib took it; when its buffer is full, once it drained.
    if (written) send.resolve();
    else this.#whenDrained(channel, send);
  }

  #whenDrained(channel: QueueChannel, send: PendingSend): void {
    const blocked = channel.blockedWait();
    if (!blocked) {
      send.resolve();
      return;
    }
    blocked.then(
      () => send.resolve(),
      (error: unknown) => send.reject(error),
    );
  }

  #confirmed(send: PendingSend, error: unknown, channel?: QueueChannel, size?: number): void {
    if (error === null || error === undefined) send.resolve();
    else if (isBrokerNack(error)) {
      send.reject(errors.error('REJECTED', `the broker refused (nacked) a message for '${this.#name}'`));
    } else {
      const refused = tooLarge(channel?.brokerError, size);
      if (refused) {
        send.reject(
          errors.error(
            'REJECTED',
            `the broker refused a message for '${this.#name}' as too large (${refused.message}); sending it again cannot help: raise RabbitMQ's max_message_size or send less`,
            { cause: refused },
          ),
        );
      } else send.reject(this.#lost('the channel closed before the broker confirmed the message', error));
    }
  }

  /** A consumer is on an open channel, not cancelled by the broker (a deleted queue cancels it before the channel closes). */
  attached(): boolean {
    const channel = this.#channel;
    return (
      channel !== undefined &&
      !channel.closed &&
      channel.consumerTag !== undefined &&
      channel.brokerError === undefined
    );
  }

  async stopReceiving(): Promise<void> {
    const channel = this.#channel;
    if (!channel?.consumerTag || channel.closed) return;
    // A failed cancel means the channel is dying; release() and the broker take care of the rest.
    await channel.cancel(this.#millis).catch(() => {});
  }

  async release(): Promise<void> {
    const channel = this.#channel;
    this.#channel = undefined;
    if (!channel) return;
    await channel.dispose(this.#millis);
    channel.fail(this.#lost('queue closed', undefined, 'CLOSED'));
  }

  linkDown(): void {
    const channel = this.#channel;
    this.#channel = undefined;
    this.#stale.value = undefined;
    channel?.fail(this.#lost('connection lost'));
  }

  /** Declares what this queue uses on the broker; the queue a receiver consumes from. */
  #declare(raw: amqp.Channel): Promise<string | undefined> {
    const { options } = this.#core;
    if (options.routing !== 'topic') return declare(raw, this.#topology);
    return declareTopic(raw, {
      space: options.name,
      declareSpace: options.declare,
      topics: options.topics ?? [],
      group: options.group,
      queue: this.#topology,
    });
  }

  get #millis(): number {
    return this.#link.timeoutMillis;
  }

  #onDelivery(channel: QueueChannel, delivery: amqp.ConsumeMessage | null): void {
    if (delivery === null) {
      // The broker cancelled the consumer, e.g. because the queue was deleted: reopen to declare it again.
      channel.cancelledByBroker(
        `the broker cancelled the consumer (was queue '${this.#name}' deleted?)`,
        this.#millis,
      );
      return;
    }
    const { options } = this.#core;
    channel.acks.delivered(delivery);
    this.#core.deliver(
      new AmqpDelivery(
        delivery.content,
        // Acks of one tick leave together, settled by one promise (`AckBatch`); a nack leaves at once.
        (requeue) => (requeue ? this.#nack(channel, delivery) : channel.acks.ack(delivery)),
        deliveryMetadata(
          delivery,
          options.routing === 'topic' ? deliveryTopic(delivery, options.name) : undefined,
        ),
        channel,
      ),
    );
  }

  /**
   * Nacks on the channel the message came on (acks go through its `AckBatch`, on that channel too), whatever the
   * queue is doing: deliveries can reach the handler before `open()` returns (a backlog is delivered as soon as
   * `basic.consume` is answered), and each of them must be settleable for as long as its channel lives. Never on
   * another channel: an unknown delivery tag would make the broker close that channel.
   */
  #nack(channel: QueueChannel, delivery: amqp.ConsumeMessage): Promise<void> {
    if (channel.closed) return Promise.reject(this.#channelGone('nack'));
    try {
      channel.acks.nack(delivery);
    } catch (error) {
      return Promise.reject(this.#refused(channel, 'nack', error));
    }
    return SETTLED;
  }

  /** `ACK_FAILED`: the channel a message came on closed, and the broker's hold on it with it. */
  #channelGone(verb: string): MqError {
    return errors.error(
      'ACK_FAILED',
      `cannot ${verb} on '${this.#name}': the channel it came on has closed, and with it the broker's hold on the message; the broker will redeliver it`,
    );
  }

  /**
   * `ACK_FAILED`: the channel is still open but would not take the ack (amqplib refuses while a close is under
   * way). Left so, the message would be held unacked for as long as the channel lives: it is closed, and the broker
   * redelivers everything it held; the queue opens a new channel by itself.
   */
  #refused(channel: QueueChannel, verb: string, error: unknown): MqError {
    void channel.close(this.#millis);
    return errors.wrap(
      error,
      'ACK_FAILED',
      `cannot ${verb} on '${this.#name}': the channel refused it, so it is being closed and the broker will redeliver the message`,
    );
  }

  #onChannelClose(channel: QueueChannel): void {
    const error = this.#lost('the channel closed');
    channel.fail(error);
    // Whenever its channel dies undeleted, also while open() is still running: the exclusive queue lives as long
    // as its connection and, still bound, would fill up with every broadcast. The next open on this connection
    // deletes it (a connection loss takes it with it: linkDown() forgets it).
    if (channel.tempQueue !== undefined) {
      this.#stale.value = { model: channel.model, queue: channel.tempQueue };
    }
    if (this.#channel !== channel) return;
    this.#channel = undefined;
    // No confirm can come on a closed channel.
    this.#core.failPendingSends(error);
    // If the whole connection is dying, core lets its loss win over this one.
    const cause = channel.brokerError;
    this.#core.resourceLost(
      errors.error(
        'BROKER',
        `the broker closed the channel of queue '${this.#name}': ${cause?.message ?? 'closed'}`,
        {
          cause,
        },
      ),
    );
  }

  async #dropStaleTemp(raw: amqp.Channel, model: amqp.ChannelModel): Promise<void> {
    const stale = this.#stale.value;
    // An exclusive queue lives as long as its connection: on the same connection it is still bound, and
    // would fill up with messages nobody reads. Forgotten only once deleted: a failed delete is tried again.
    if (stale && stale.model === model) await raw.deleteQueue(stale.queue);
    if (this.#stale.value === stale) this.#stale.value = undefined;
  }

  /**
   * The error for what a dead channel leaves unsettled: `CONNECTION_LOST` (the broker may or may not have a send
   * in flight), or `CLOSED` for what `release()` itself ends.
   */
  #lost(what: string, cause?: unknown, code: 'CONNECTION_LOST' | 'CLOSED' = 'CONNECTION_LOST'): MqError {
    return errors.error(code, `queue '${this.#name}': ${what}`, cause === undefined ? {} : { cause });
  }
}

/**
 * RabbitMQ's error when it closed the channel over a message above its `max_message_size` and a message of
 * `size` bytes is above that size (so this one was refused, not one sent before it); else undefined.
 */
function tooLarge(brokerError: Error | undefined, size: number | undefined): Error | undefined {
  const match = brokerError === undefined ? null : TOO_LARGE.exec(brokerError.message);
  if (!match || size === undefined) return undefined;
  return size > Number(match[2]) ? brokerError : undefined;
}

/** A delivery, with the channel it came on: the failure policy's copy of it goes out there, before its ack. */
class AmqpDelivery extends SettleOnceMessage {
  /**
   * The channel the message came on: private, so that a message an app holds (or logs with `util.inspect`) does
   * not lead to the channel, the connection and its socket.
   */
  readonly #channel: QueueChannel;

  constructor(
    payload: Buffer,
    settle: (requeue: boolean) => Promise<void>,
    meta: ReturnType<typeof deliveryMetadata>,
    channel: QueueChannel,
  ) {
    super(payload, settle, meta);
    this.#channel = channel;
  }

  /** The channel `message` came on (the only one that can settle it). */
  static channelOf(message: AmqpDelivery): QueueChannel {
    return message.#channel;
  }
}
