import {
  LegacyBaseQueue,
  type Message,
  type MqError,
  ownConnection,
  type PendingSend,
  SETTLED,
  type SendOptions,
  SettleOnceMessage,
} from '@mq/core/spi';
import type * as amqp from 'amqplib';
import { isBrokerNack } from './amqplib-internals.js';
import { AmqpConnection } from './connection.js';
import { errors } from './errors.js';
import { type AmqpQueueOptions, resolveAmqpQueueOptions } from './options.js';
import { deliveryMetadata, publishOptions, RESERVED_HEADERS, withoutReserved } from './properties.js';
import { QueueChannel } from './queue-channel.js';
import { deadLetterTopology, declare, declareError, route, type Topology } from './topology.js';

/**
 * Frames amqplib buffers per channel before `publish()` returns false and sends wait for 'drain': amqplib's own
 * default, as a raw amqplib app has it. 128 (at most 16 MiB of 128 KiB frames instead of 128 MiB) made awaited
 * best-effort sends 2-2.7x slower than amqplib's (a 'drain' round trip every 128 frames; `pnpm bench` sends/s).
 */
const WRITE_BUFFER_FRAMES = 1024;

/** The failure policy's copies (retries, dead letters) are persistent: a broker restart must not lose them. */
const COPY_OPTIONS: amqp.Options.Publish = Object.freeze({ deliveryMode: 2 });

/**
 * A sender or receiver on an {@link AmqpConnection}, on its own channel. Unicast maps to a durable queue,
 * broadcast to a fanout exchange (see the README for the whole mapping). Reliable senders use a confirm channel
 * and resolve each send on the broker's `basic.ack`; receivers use `basic.qos(prefetch)` and manual acks.
 */
export class AmqpQueue extends LegacyBaseQueue {
  /** Messages are published with delivery mode 2 (persistent). */
  readonly persistent: boolean;
  /** The unicast queue's RabbitMQ type. */
  readonly queueType: 'classic' | 'quorum';
  /** What this queue declares on the broker. */
  readonly #topology: Topology;
  readonly #conn: AmqpConnection;
  #link: QueueChannel | undefined;
  /** The temporary broadcast queue of a channel the broker closed while the connection stayed up. */
  #staleTemp: { model: amqp.ChannelModel; queue: string } | undefined;
  /** Where every message goes, computed once (the options never change). */
  readonly #route: { exchange: string; routingKey: string };
  /** amqplib's publish options, shared by every send: amqplib only reads them. */
  readonly #publishOptions: amqp.Options.Publish;

  /**
   * Validates the options and that `connection` is an {@link AmqpConnection}; the queue starts `closed`.
   */
  constructor(options: AmqpQueueOptions, connection: AmqpConnection) {
    const resolved = resolveAmqpQueueOptions(options);
    const conn = ownConnection(errors, connection, AmqpConnection);
    super(errors, resolved, conn);
    this.persistent = resolved.persistent;
    this.queueType = resolved.queueType;
    this.#topology = Object.freeze({
      broadcast: resolved.broadcast,
      isRecv: resolved.isRecv,
      name: resolved.name,
      queueType: resolved.queueType,
      deliveryLimit: resolved.deliveryLimit,
    });
    this.#conn = conn;
    this.#route = route(resolved);
    this.#publishOptions = { deliveryMode: resolved.persistent ? 2 : 1 };
  }

  protected override async open(): Promise<void> {
    this.#link = undefined;
    const model = this.#conn.channelModel;
    if (!model) {
      throw errors.error('NOT_CONNECTED', `connection lost before queue '${this.name}' opened`);
    }
    // Receivers too: the failure policy's copies (retries, dead letters) are confirmed before the original is acked.
    const confirm = this.isRecv || this.options.reliable;
    const channelOptions = { highWaterMark: WRITE_BUFFER_FRAMES };
    const channel = confirm
      ? await model.createConfirmChannel(channelOptions)
      : await model.createChannel(channelOptions);
    const link: QueueChannel = new QueueChannel(channel, model, () => this.#onChannelClose(link));
    /** The queue being declared, for the error of a declaration the broker refuses. */
    let declaring = this.name;
    try {
      await this.#dropStaleTemp(channel, model);
      const queue = await declare(channel, this.#topology);
      const { options } = this;
      const deadLetter = options.isRecv ? options.failure.deadLetter : undefined;
      if (deadLetter !== undefined) {
        declaring = deadLetter;
        await declare(channel, deadLetterTopology(deadLetter));
        declaring = this.name;
      }
      if (options.isRecv && queue !== undefined) {
        if (options.broadcast) link.ownTempQueue(queue);
        await channel.prefetch(options.prefetch);
        const { consumerTag } = await channel.consume(queue, (raw) => this.#onDelivery(link, raw), {
          noAck: false,
        });
        link.consuming(consumerTag);
      }
    } catch (error) {
      await link.close(this.#millis);
      link.fail(this.#lost('opening failed'));
      throw declareError(
        declaring,
        link.brokerError ?? error,
        declaring === this.name ? undefined : 'deadLetter',
      );
    }
    if (link.closed) {
      throw errors.wrap(
        link.brokerError ?? new Error('channel closed'),
        'BROKER',
        `the channel of queue '${this.name}' closed while opening`,
      );
    }
    this.#link = link;
  }

  /** Every `SendOptions` field maps to an AMQP basic property or the headers table. */
  protected override get carriesMetadata(): boolean {
    return true;
  }

  /** Header names RabbitMQ gives a meaning to. */
  protected override get reservedHeaders(): ReadonlySet<string> {
    return RESERVED_HEADERS;
  }

  /** Retries go to the tail of the queue (the temporary queue of a broadcast receiver): the others go first. */
  protected override get requeuesBehind(): boolean {
    return true;
  }

  /** The dead-letter queue is a durable queue of the default exchange, declared when the receiver opens. */
  protected override get deadLetters(): boolean {
    return true;
  }

  protected override republish(
    to: string | undefined,
    message: Message,
    send: PendingSend,
    options: SendOptions,
  ): void {
    // On the channel the message came on (the only one that can ack it after), also while the queue opens.
    const link = message instanceof AmqpDelivery ? message.link : this.#link;
    const routingKey = to ?? (this.options.broadcast ? link?.tempQueue : this.name);
    if (!link || link.closed || routingKey === undefined) {
      send.reject(this.#lost('the channel the message came on is gone; copy not published'));
      return;
    }
    const headers = withoutReserved(options.headers);
    const publish = publishOptions(COPY_OPTIONS, headers === undefined ? options : { ...options, headers });
    const channel = link.channel as amqp.ConfirmChannel;
    const copy = (): void => {
      try {
        channel.publish('', routingKey, message.payload, publish, (error: unknown) =>
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
    declare(channel, deadLetterTopology(to)).then(copy, (error: unknown) =>
      send.reject(this.#lost(`declaring dead-letter queue '${to}' failed; copy not published`, error)),
    );
  }

  protected override publish(payload: Uint8Array, send: PendingSend, options?: SendOptions): void {
    const link = this.#link;
    if (!link || link.closed) {
      send.reject(this.#lost('the channel is gone; message not sent'));
      return;
    }
    const blocked = link.blockedWait();
    if (blocked) {
      blocked.then(
        () => {
          if (link.closed || this.#link !== link)
            send.reject(this.#lost('the channel closed; message not sent'));
          else this.#publishNow(link, payload, send, options);
        },
        (error: unknown) => send.reject(error),
      );
    } else {
      this.#publishNow(link, payload, send, options);
    }
  }

  /** Not copied here: amqplib copies small bodies into its frame and writes larger ones as they are. */
  #publishNow(link: QueueChannel, payload: Uint8Array, send: PendingSend, options?: SendOptions): void {
    const content = Buffer.isBuffer(payload)
      ? payload
      : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    const { exchange, routingKey } = this.#route;
    const publish = publishOptions(this.#publishOptions, options);
    let written: boolean;
    try {
      written = this.options.reliable
        ? (link.channel as amqp.ConfirmChannel).publish(
            exchange,
            routingKey,
            content,
            publish,
            (error: unknown) => this.#confirmed(send, error),
          )
        : link.channel.publish(exchange, routingKey, content, publish);
    } catch (error) {
      send.reject(this.#lost('the channel closed; message not sent', error));
      return;
    }
    if (!written) link.block();
    if (this.options.reliable) return;
    // Best effort: done once amqplib took it; when its buffer is full, once it drained.
    if (written) send.resolve();
    else this.#whenDrained(link, send);
  }

  #whenDrained(link: QueueChannel, send: PendingSend): void {
    const blocked = link.blockedWait();
    if (!blocked) {
      send.resolve();
      return;
    }
    blocked.then(
      () => send.resolve(),
      (error: unknown) => send.reject(error),
    );
  }

  #confirmed(send: PendingSend, error: unknown): void {
    if (error === null || error === undefined) send.resolve();
    else if (isBrokerNack(error)) {
      send.reject(errors.error('REJECTED', `the broker refused (nacked) a message for '${this.name}'`));
    } else send.reject(this.#lost('the channel closed before the broker confirmed the message', error));
  }

  protected override async stopReceiving(): Promise<void> {
    const link = this.#link;
    if (!link?.consumerTag || link.closed) return;
    // A failed cancel means the channel is dying; release() and the broker take care of the rest.
    await link.cancel(this.#millis).catch(() => {});
  }

  protected override async release(): Promise<void> {
    const link = this.#link;
    this.#link = undefined;
    if (!link) return;
    await link.dispose(this.#millis);
    link.fail(this.#lost('queue closed', undefined, 'CLOSED'));
  }

  protected override onLinkDown(): void {
    const link = this.#link;
    this.#link = undefined;
    this.#staleTemp = undefined;
    link?.fail(this.#lost('connection lost'));
  }

  get #millis(): number {
    return this.#conn.settings.connectTimeoutMillis;
  }

  #onDelivery(link: QueueChannel, raw: amqp.ConsumeMessage | null): void {
    if (raw === null) {
      // The broker cancelled the consumer, e.g. because the queue was deleted: reopen to declare it again.
      link.cancelledByBroker(
        `the broker cancelled the consumer (was queue '${this.name}' deleted?)`,
        this.#millis,
      );
      return;
    }
    this.deliver(
      new AmqpDelivery(
        raw.content,
        (requeue) => this.#settle(link, raw, requeue),
        deliveryMetadata(raw),
        link,
      ),
    );
  }

  /**
   * Acks or nacks on the channel the message came on, whatever the queue is doing: deliveries can reach the
   * handler before `open()` returns (a backlog is delivered as soon as `basic.consume` is answered), and each
   * of them must be settleable for as long as its channel lives. Never on another channel: an unknown delivery
   * tag would make the broker close that channel.
   */
  #settle(link: QueueChannel, raw: amqp.ConsumeMessage, requeue: boolean): Promise<void> {
    const verb = requeue ? 'nack' : 'ack';
    if (link.closed) {
      return Promise.reject(
        errors.error(
          'ACK_FAILED',
          `cannot ${verb} on '${this.name}': the channel it came on has closed, and with it the broker's hold on the message; the broker will redeliver it`,
        ),
      );
    }
    try {
      if (requeue) link.channel.nack(raw, false, true);
      else link.channel.ack(raw);
    } catch (error) {
      // The channel is still open but would not take the ack (amqplib refuses while a close is under way). Left
      // so, the message would be held unacked for as long as the channel lives: close it, and the broker
      // redelivers everything it held; the queue opens a new channel by itself.
      void link.close(this.#millis);
      return Promise.reject(
        errors.wrap(
          error,
          'ACK_FAILED',
          `cannot ${verb} on '${this.name}': the channel refused it, so it is being closed and the broker will redeliver the message`,
        ),
      );
    }
    return SETTLED;
  }

  #onChannelClose(link: QueueChannel): void {
    const error = this.#lost('the channel closed');
    link.fail(error);
    // Whenever its channel dies undeleted, also while open() is still running: the exclusive queue lives as long
    // as its connection and, still bound, would fill up with every broadcast. The next open on this connection
    // deletes it (a connection loss takes it with it: onLinkDown() forgets it).
    if (link.tempQueue !== undefined) {
      this.#staleTemp = { model: link.model, queue: link.tempQueue };
    }
    if (this.#link !== link) return;
    this.#link = undefined;
    // No confirm can come on a closed channel.
    this.failPendingSends(error);
    // If the whole connection is dying, core lets its loss win over this one.
    const cause = link.brokerError;
    this.notifyResourceLost(
      errors.error(
        'BROKER',
        `the broker closed the channel of queue '${this.name}': ${cause?.message ?? 'closed'}`,
        { cause },
      ),
    );
  }

  async #dropStaleTemp(channel: amqp.Channel, model: amqp.ChannelModel): Promise<void> {
    const stale = this.#staleTemp;
    // An exclusive queue lives as long as its connection: on the same connection it is still bound, and
    // would fill up with messages nobody reads. Forgotten only once deleted: a failed delete is tried again.
    if (stale && stale.model === model) await channel.deleteQueue(stale.queue);
    if (this.#staleTemp === stale) this.#staleTemp = undefined;
  }

  /**
   * The error for what a dead channel leaves unsettled: `CONNECTION_LOST` (the broker may or may not have a send
   * in flight), or `CLOSED` for what `release()` itself ends.
   */
  #lost(what: string, cause?: unknown, code: 'CONNECTION_LOST' | 'CLOSED' = 'CONNECTION_LOST'): MqError {
    return errors.error(code, `queue '${this.name}': ${what}`, cause === undefined ? {} : { cause });
  }
}

/** A delivery, with the channel it came on: the failure policy's copy of it goes out there, before its ack. */
class AmqpDelivery extends SettleOnceMessage {
  /** The channel the message came on. */
  readonly link: QueueChannel;

  constructor(
    payload: Buffer,
    settle: (requeue: boolean) => Promise<void>,
    meta: ReturnType<typeof deliveryMetadata>,
    link: QueueChannel,
  ) {
    super(payload, settle, meta);
    this.link = link;
  }
}
