import {
  hasMetadata,
  type Message,
  type MqError,
  NO_HEADERS,
  type PendingSend,
  type QueueCore,
  type QueueDriver,
  type SendOptions,
} from '@mq/core/spi';
import type { IPublishPacket } from 'mqtt';
import type { MqttConnection } from './connection.js';
import type { MqttConnectionDriver } from './connection-driver.js';
import { errors } from './errors.js';
import type { MqttLink } from './link.js';
import { packetMetadata, publishProperties } from './properties.js';
import type { ResolvedMqttQueueOptions } from './queue-options.js';
import type { ReplySink } from './replies.js';
import { Subscription } from './subscription.js';
import { type Filters, LastConversion, spaceTopic } from './topics.js';

/**
 * One `connect()`..`closed` cycle of an `MqttQueue`: maps the queue API onto MQTT. Topic = queue name; best
 * effort = QoS 0, reliable = QoS 1. A receiver's {@link Subscription} (claimed in the connection's table as the
 * cycle starts) owns everything on the receive side, down to handing each message to core; this driver
 * subscribes it on `open()` and hands it the close. A reliable message is PUBACKed only when its handler calls
 * `ack()`.
 */
export class MqttQueueDriver implements QueueDriver, ReplySink {
  readonly #core: QueueCore<ResolvedMqttQueueOptions>;
  readonly #connection: MqttConnection;
  readonly #conn: MqttConnectionDriver;
  /** QoS of the queue's sends and subscription: 1 on a reliable queue. */
  readonly #qos: 0 | 1;
  /** The queue's name: its topic, or its topic space. */
  readonly #name: string;
  /**
   * A reliable unicast message the broker discards for want of a receiver must not resolve as delivered (a topic
   * message that matches no group is dropped by design, as a broadcast one is).
   */
  readonly #needsReceiver: boolean;
  /** A receiver's subscription; undefined on a sender. */
  readonly #subscription: Subscription | undefined;
  /** A topic sender's topic → MQTT topic (`eu.created` → `orders/eu/created`). */
  readonly #sentTopics = new LastConversion((topic) => spaceTopic(this.#name, topic));
  /** A requesting sender's response topic, registered with the connection on its first request. */
  #replyTopic: string | undefined;

  /** A receiver claims its topic on the connection now (core has refused a second receiver of it already). */
  constructor(
    core: QueueCore<ResolvedMqttQueueOptions>,
    connection: MqttConnection,
    conn: MqttConnectionDriver,
    filter: Filters,
  ) {
    this.#core = core;
    this.#connection = connection;
    this.#conn = conn;
    const { options } = core;
    this.#qos = options.reliable ? 1 : 0;
    this.#name = options.name;
    this.#needsReceiver = options.reliable && !options.broadcast && options.routing !== 'topic';
    this.#subscription = options.isRecv
      ? new Subscription(conn, core.deliver, {
          topic: options.name,
          filter,
          prefetch: options.prefetch,
          topics: options.routing === 'topic' ? (options.topics ?? []) : undefined,
        })
      : undefined;
  }

  /**
   * Only to a dead-letter topic (retries stay here: a nack hands the message to this receiver again, unacked at
   * the broker, while other messages keep coming); PUBACKed by the broker before the original is.
   */
  republish(to: string | undefined, message: Message, send: PendingSend, options: SendOptions): void {
    if (to === undefined) {
      send.reject(errors.error('UNSUPPORTED', `queue '${this.#name}' cannot republish to itself`));
      return;
    }
    this.#liveLink().publish(to, message.payload, 1, send, publishProperties(1, options));
  }

  async open(): Promise<void> {
    const link = this.#liveLink();
    const subscription = this.#subscription;
    if (!subscription) return;
    await link.subscribe(subscription.filter, this.#qos);
    if (this.#liveLink() !== link) throw lost(this.#name);
    subscription.receive(link);
  }

  /** The sender's response topic, once the connection's reply subscription is in place on the current link. */
  replyAddress(): string | Promise<string> {
    const link = this.#liveLink();
    const topic = this.#replyTopic ?? this.#conn.replies.register(this);
    this.#replyTopic = topic;
    if (this.#conn.replies.readyOn(link)) return topic;
    return this.#conn.replies.ready(link).then(() => {
      if (this.#liveLink() !== link) throw lost(this.#name);
      return topic;
    });
  }

  /** For the connection's replies: one reply to this sender's requests. */
  takeReply(packet: IPublishPacket): void {
    const meta = packetMetadata(packet, 0);
    this.#core.deliverReply({
      payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload, 'utf8'),
      headers: meta.headers ?? NO_HEADERS,
      messageId: meta.messageId,
      correlationId: meta.correlationId,
      contentType: meta.contentType,
      timestamp: meta.timestamp,
    });
  }

  /** The reply, to the request's response topic with its correlation data; QoS 1 on a reliable receiver. */
  reply(to: string, payload: Uint8Array, send: PendingSend, options: SendOptions): void {
    if (!validTopic(send, to, 'replyTo')) return;
    const body = Buffer.isBuffer(payload)
      ? payload
      : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    const qos = this.#qos;
    this.#liveLink().publish(to, body, qos, send, publishProperties(qos, options));
  }

  publish(payload: Uint8Array, send: PendingSend, options: SendOptions | undefined): void {
    if (options?.replyTo !== undefined && !validTopic(send, options.replyTo, 'replyTo')) return;
    const link = this.#liveLink();
    // Not copied, as with mqtt.js itself: the app must not change a payload it has handed to sendMsg().
    const body = Buffer.isBuffer(payload)
      ? payload
      : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    const qos = this.#qos;
    const topic =
      this.#core.options.routing === 'topic' && options?.topic !== undefined
        ? this.#sentTopics.of(options.topic)
        : this.#name;
    // A topic alone is no metadata: the hot path's shared publish options serve.
    link.publish(
      topic,
      body,
      qos,
      send,
      options && hasMetadata(options) ? publishProperties(qos, options) : undefined,
      this.#needsReceiver,
    );
  }

  /** The broker granted the subscription (SUBACK) on the link that is still up. */
  attached(): boolean {
    return this.#subscription?.attached ?? false;
  }

  /** Hands the close to the subscription (see `Subscription.close`). */
  async stopReceiving(): Promise<void> {
    await this.#subscription?.close(this.#keepsSubscription);
  }

  async release(): Promise<void> {
    if (this.#replyTopic !== undefined) this.#conn.replies.unregister(this.#replyTopic);
    this.#replyTopic = undefined;
    await this.#subscription?.release(this.#keepsSubscription);
  }

  /** A persistent session keeps its subscriptions when the whole connection closes (app shutdown). */
  get #keepsSubscription(): boolean {
    return !this.#conn.settings.cleanSession && this.#connection.status === 'closing';
  }

  linkDown(): void {
    this.#subscription?.linkDown();
  }

  #liveLink(): MqttLink {
    const link = this.#conn.link;
    if (!link?.alive) throw lost(this.#name);
    return link;
  }
}

/**
 * False (with `send` rejected `INVALID_ARGUMENT`) for a topic MQTT refuses as a response topic or a PUBLISH's
 * topic: a wildcard in it would make the broker drop the link.
 */
function validTopic(send: PendingSend, topic: string, what: string): boolean {
  if (!/[+#]/.test(topic)) return true;
  send.reject(errors.argument(`${what} must be an MQTT topic name without wildcards (+, #), got '${topic}'`));
  return false;
}

function lost(name: string): MqError {
  return errors.error('CONNECTION_LOST', `the connection of '${name}' has no open link`);
}
