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
  topicMatcher,
} from '@mq/core/spi';
import type { IPublishPacket } from 'mqtt';
import type { MqttConnection } from './connection.js';
import type { MqttConnectionDriver } from './connection-driver.js';
import { errors } from './errors.js';
import { LateDeliveries } from './late-deliveries.js';
import { MqttLink } from './link.js';
import { packetMetadata, publishProperties } from './properties.js';
import type { ResolvedMqttQueueOptions } from './queue-options.js';
import type { ReplySink } from './replies.js';
import type { ReceiverSink } from './subscriptions.js';
import { type Filters, LastConversion, overlapping, spaceTopic, topicOfPacket } from './topics.js';

/**
 * One `connect()`..`closed` cycle of an `MqttQueue`. Topic = queue name; best effort = QoS 0, reliable = QoS 1;
 * a receiver claims its topic in the connection's table as the cycle starts, takes the messages the table
 * routes to it, and PUBACKs a reliable message only when its handler calls `ack()`.
 */
export class MqttQueueDriver implements QueueDriver, ReceiverSink, ReplySink {
  readonly #core: QueueCore<ResolvedMqttQueueOptions>;
  readonly #connection: MqttConnection;
  readonly #conn: MqttConnectionDriver;
  /** The topic filter a receiver subscribes to (a topic receiver's filters). */
  readonly #filter: Filters;
  /**
   * A topic receiver's overlapping patterns as one test: what its space-wide filter brings that they do not match
   * is dropped. Undefined where the broker's filters do all the matching.
   */
  readonly #matches: ((topic: string) => boolean) | undefined;
  /** True on a topic receiver: each delivery carries its topic. */
  readonly #topicRouted: boolean;
  /** A topic receiver's MQTT topic → topic (`orders/eu/created` → `eu.created`). */
  readonly #packetTopics = new LastConversion(topicOfPacket);
  /** A topic sender's topic → MQTT topic (`eu.created` → `orders/eu/created`). */
  readonly #sentTopics = new LastConversion((topic) => spaceTopic(this.#name, topic));
  /**
   * A receiver's one state: `receiving` on the link its subscription lives on; `closing` while it closes and
   * takes what the broker had already assigned to it; `stopped` once it takes nothing more (with whether its
   * UNSUBSCRIBE failed while the link stayed up); `undefined` before it opens and after its link is gone.
   */
  #receiving:
    | { readonly phase: 'receiving'; readonly link: MqttLink }
    | { readonly phase: 'closing'; readonly link: MqttLink; readonly late: LateDeliveries }
    | { readonly phase: 'stopped'; readonly unsubscribeFailed: boolean }
    | undefined;
  /** How many times each packet was nacked (and handed to the handler again by this client). */
  readonly #nacks = new WeakMap<IPublishPacket, number>();
  /** Messages handed to core and not settled yet: at `prefetch`, the connection stops reading its socket. */
  #inProcess = 0;
  /** Messages of the current link that came while the receiver held its prefetch, in arrival order. */
  #waiting: IPublishPacket[] = [];
  /** Counts the receiver's releases, so that a message of an earlier open settled late counts for nothing. */
  #releases = 0;
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
    this.#filter = filter;
    const { options } = core;
    const topics = options.routing === 'topic' && options.isRecv ? (options.topics ?? []) : undefined;
    this.#topicRouted = topics !== undefined;
    // Only under the space-wide filter of overlapping patterns: otherwise the broker's filters matched already.
    this.#matches = topics !== undefined && overlapping(topics) ? topicMatcher(topics) : undefined;
    if (core.options.isRecv) conn.subscriptions.claim(this.#name, this);
  }

  get #name(): string {
    return this.#core.options.name;
  }

  /** For the connection's table: takes an incoming message; false unless receiving on `link`. */
  take(link: MqttLink, packet: IPublishPacket): boolean {
    const receiving = this.#receiving;
    if (receiving === undefined || receiving.phase === 'stopped' || receiving.link !== link) return false;
    if (this.#matches !== undefined && !this.#matches(this.#packetTopics.of(packet.topic))) {
      // Under the space-wide filter of overlapping patterns, and none of them matches: not for this receiver.
      void this.#ack(link, packet).catch(() => {});
      return true;
    }
    // At prefetch (held messages handed over at once, a nack's redelivery): it waits its turn, unacked.
    if (this.#inProcess >= this.#prefetch || this.#waiting.length > 0) {
      this.#waiting.push(packet);
      this.#conn.readGate.block(this);
      return true;
    }
    this.#deliver(receiving, link, packet);
    return true;
  }

  /** Hands waiting messages to core while below prefetch, in arrival order. */
  #feed(): void {
    while (this.#waiting.length > 0 && this.#inProcess < this.#prefetch) {
      const receiving = this.#receiving;
      const packet = this.#waiting[0] as IPublishPacket;
      if (receiving === undefined || receiving.phase === 'stopped') return;
      this.#waiting.shift();
      this.#deliver(receiving, receiving.link, packet);
    }
  }

  #deliver(
    receiving: {
      readonly phase: 'receiving' | 'closing';
      readonly link: MqttLink;
      readonly late?: LateDeliveries;
    },
    link: MqttLink,
    packet: IPublishPacket,
  ): void {
    // Each delivery gets its own copy: a nack hands the same packet to the handler again, and what the handler
    // did to its copy's bytes must not reach the next one. Its cost is within the bench's noise (A/B, 5 rounds:
    // 256 B 1→1 CPU mq/raw 48/55 with the copy, 51/51 without; 16 KiB 1→3 132/110 with, 119/101 without).
    const topic = this.#topicRouted ? this.#packetTopics.of(packet.topic) : undefined;
    const payload = Buffer.isBuffer(packet.payload)
      ? Buffer.from(packet.payload)
      : Buffer.from(packet.payload, 'utf8');
    const settled = this.#taken();
    if (receiving.late) {
      this.#core.deliver(
        receiving.late.track(
          payload,
          packet.qos,
          packetMetadata(packet, this.#nacks.get(packet) ?? 0, topic),
          () => settled(this.#ack(link, packet)),
          () => settled(this.#nack(link, packet)),
        ),
      );
      return;
    }
    this.#core.deliver(
      new SettleOnceMessage(
        payload,
        (requeue) => settled(requeue ? this.#nack(link, packet) : this.#ack(link, packet)),
        packetMetadata(packet, this.#nacks.get(packet) ?? 0, topic),
      ),
    );
  }

  /**
   * One more message in the process: at `prefetch`, the connection holds its reads until one is settled. Returns
   * what its settlement (ack or nack, whatever the outcome) passes through; a message taken before the receiver
   * was released no longer counts.
   */
  #taken(): (settling: Promise<void>) => Promise<void> {
    this.#inProcess += 1;
    if (this.#inProcess >= this.#prefetch) this.#conn.readGate.block(this);
    const release = this.#releases;
    return (settling) => {
      if (release === this.#releases) {
        this.#inProcess -= 1;
        this.#feed();
        if (this.#inProcess < this.#prefetch && this.#waiting.length === 0) this.#conn.readGate.unblock(this);
      }
      return settling;
    };
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
    if (!this.#core.options.isRecv) return;
    await link.subscribe(this.#filter, this.#qos);
    if (this.#liveLink() !== link) throw lost(this.#name);
    this.#receiving = { phase: 'receiving', link };
    for (const packet of this.#conn.subscriptions.takeHeld(link, this.#name)) this.take(link, packet);
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
    // A reliable unicast message the broker discards for want of a receiver must not resolve as delivered (a topic
    // message that matches no group is dropped by design, as a broadcast one is).
    const { broadcast, routing } = this.#core.options;
    const needsReceiver = qos === 1 && !broadcast && routing !== 'topic';
    link.publish(
      topic,
      body,
      qos,
      send,
      options && hasMetadata(options) ? publishProperties(qos, options) : undefined,
      needsReceiver,
    );
  }

  /** A receiver's `prefetch` (only receivers take messages). */
  get #prefetch(): number {
    const options = this.#core.options;
    return options.isRecv ? options.prefetch : Number.POSITIVE_INFINITY;
  }

  get #qos(): 0 | 1 {
    return this.#core.options.reliable ? 1 : 0;
  }

  /** The broker granted the subscription (SUBACK) on the link that is still up. */
  attached(): boolean {
    const receiving = this.#receiving;
    return receiving?.phase === 'receiving' && receiving.link.alive;
  }

  /**
   * Closing a receiver on its own unsubscribes first, on clean and persistent sessions alike: the app no longer
   * wants these messages, and a subscription without a receiver would keep taking its share of a group and
   * fill the connection's in-flight window with messages nobody acks. Deliveries keep reaching the handler
   * while it closes (see `release()`). Only closing the whole connection of a persistent session keeps the
   * subscription, so that the same `clientId` gets what was sent meanwhile.
   */
  async stopReceiving(): Promise<void> {
    const receiving = this.#receiving;
    if (receiving?.phase !== 'receiving' || !receiving.link.alive || this.#keepsSubscription) {
      this.#receiving = { phase: 'stopped', unsubscribeFailed: false };
      return;
    }
    const { link } = receiving;
    this.#receiving = { phase: 'closing', link, late: new LateDeliveries() };
    try {
      await link.unsubscribe(this.#filter);
    } catch (error) {
      const lostLink = MqttLink.lostWith(error);
      // The link is up but the broker did not confirm (a timeout, a refusal): release() hands the topic to the
      // connection's table, which unsubscribes again and settles whatever still arrives: nothing held forever.
      this.#receiving = { phase: 'stopped', unsubscribeFailed: !lostLink };
      if (!lostLink) throw error;
    }
  }

  async release(): Promise<void> {
    if (this.#replyTopic !== undefined) this.#conn.replies.unregister(this.#replyTopic);
    this.#replyTopic = undefined;
    const receiving = this.#receiving;
    try {
      if (receiving?.phase === 'closing') await this.#lateSettled(receiving.link, receiving.late);
    } finally {
      this.#receiving = undefined;
      // What a closed receiver still has unsettled (a loop broken off leaves its buffered messages unacked for
      // the broker) must not hold the connection's reads.
      this.#inProcess = 0;
      this.#releases += 1;
      const waiting = this.#waiting;
      this.#waiting = [];
      this.#conn.readGate.unblock(this);
      if (this.#core.options.isRecv) {
        const table = this.#conn.subscriptions;
        table.release(this.#name, this);
        // Whatever the broker still sends for this topic is settled and reported by the table, never held.
        if (receiving?.phase === 'closing') table.abandon(this.#name, this.#filter, true, this.#conn.link);
        else if (
          (receiving?.phase === 'stopped' && receiving.unsubscribeFailed) ||
          (!this.#conn.settings.cleanSession && !this.#keepsSubscription)
        ) {
          // Closed while the link was down: the session still has the subscription; drop it on the next link.
          table.abandon(this.#name, this.#filter, false, this.#conn.link);
        }
        // What waited for the prefetch is settled as anything arriving for the topic now (kept unacked for a
        // persistent session, acked and reported on a clean one); on a dead link it is the broker's again.
        const link = this.#conn.link;
        for (const packet of waiting) if (link?.alive) table.redispatch(link, packet);
      }
    }
  }

  /** A persistent session keeps its subscriptions when the whole connection closes (app shutdown). */
  get #keepsSubscription(): boolean {
    return !this.#conn.settings.cleanSession && this.#connection.status === 'closing';
  }

  /**
   * After the UNSUBSCRIBE, the broker still sends what it had already assigned to this session (Mosquitto
   * sends its queue as the acks free the in-flight window); MQTT cannot hand those back to the group. Handle
   * them here: wait until every message that came during the close is acked or nacked, then ask the broker
   * for a round trip (another UNSUBSCRIBE, answered after every PUBLISH it sent before); stop when none came
   * meanwhile, or after `connectTimeoutMillis` in all.
   */
  async #lateSettled(link: MqttLink, late: LateDeliveries): Promise<void> {
    // The handlers of earlier deliveries have finished (core waited for them): only later ones count.
    late.forgetEarlier();
    const deadline = Date.now() + this.#conn.settings.connectTimeoutMillis;
    while (link.alive) {
      if (!(await late.settled(deadline))) return;
      const seen = late.delivered;
      try {
        await link.unsubscribe(this.#filter);
      } catch {
        return;
      }
      if (late.delivered === seen || Date.now() >= deadline) return;
    }
  }

  linkDown(): void {
    this.#receiving = undefined;
    // Their packet ids mean nothing on the next link: the broker sends them again to a resumed session.
    this.#waiting = [];
  }

  #liveLink(): MqttLink {
    const link = this.#conn.link;
    if (!link?.alive) throw lost(this.#name);
    return link;
  }

  /** Not async: a QoS 0 ack and a written PUBACK return `SETTLED`, which core need not track. */
  #ack(link: MqttLink, packet: IPublishPacket): Promise<void> {
    if (packet.qos === 0) return SETTLED;
    try {
      if (link.puback(packet.messageId as number)) return SETTLED;
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.reject(
      errors.error(
        'ACK_FAILED',
        `cannot ack on '${this.#name}': the link it came on is gone; the broker redelivers it if the session persists`,
      ),
    );
  }

  async #nack(link: MqttLink, packet: IPublishPacket): Promise<void> {
    if (!link.alive) {
      throw errors.error(
        'ACK_FAILED',
        `cannot redeliver on '${this.#name}': the link it came on is gone; the broker redelivers it if the session persists`,
      );
    }
    const receiving = this.#receiving;
    if (receiving?.phase === 'closing' && receiving.link === link) {
      if (!this.#conn.settings.cleanSession) {
        // A persistent session delivers it again (to a receiver of this name on this link, or on the session's
        // next link): it stays unacked, held by the connection, at the cost of a place in its in-flight window.
        this.#conn.subscriptions.keep(link, packet);
        throw errors.error(
          'ACK_FAILED',
          `cannot redeliver on '${this.#name}' while it closes: the message stays unacked for the persistent session, which delivers it again`,
        );
      }
      // Closing a clean session: the topic is unsubscribed and MQTT cannot hand the message back to the group.
      // Left unacked it would hold a place in the in-flight window every other receiver of the connection needs
      // until the link ends, and be dropped then anyway: settle it now and say so.
      await this.#ack(link, packet);
      throw errors.error(
        'ACK_FAILED',
        `cannot redeliver on '${this.#name}' while it closes: MQTT cannot hand the message back, so it was acked and dropped`,
      );
    }
    if (receiving === undefined || receiving.phase === 'stopped' || receiving.link !== link) {
      // The receiver closed after this delivery (its handler outlived the close), on a link that lives on. Left
      // unacked the message would hold a place in the connection's in-flight window until the link ends: the
      // connection settles it as any message of this topic arriving now (to a receiver of this name on the link,
      // kept for one to come, or acked, dropped and reported).
      if (packet.qos > 0) this.#conn.subscriptions.redispatch(link, packet);
      throw errors.error(
        'ACK_FAILED',
        `cannot redeliver on '${this.#name}': the receiver has closed; the message went back to its connection, which hands it to a receiver of this name, or keeps it unacked for a persistent session, or (clean session) acks and drops it (reported)`,
      );
    }
    // MQTT has no negative ack: the message stays unacked at the broker and goes to this receiver again.
    this.#nacks.set(packet, (this.#nacks.get(packet) ?? 0) + 1);
    setImmediate(() => {
      if (this.take(link, packet)) return;
      // The receiver closed meanwhile: the connection decides, as for any message of this topic (held for a
      // receiver to come, or acked and reported if the topic was abandoned).
      if (packet.qos > 0 && link.alive) this.#conn.subscriptions.redispatch(link, packet);
    });
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
