import { type DeliveredMessage, SETTLED, SettleOnceMessage, topicMatcher } from '@mq/core/spi';
import type { IPublishPacket } from 'mqtt';
import type { MqttConnectionDriver } from './connection-driver.js';
import { errors } from './errors.js';
import { LateDeliveries } from './late-deliveries.js';
import { MqttLink } from './link.js';
import { PrefetchWindow } from './prefetch-window.js';
import { packetMetadata } from './properties.js';
import type { HandBack } from './subscription-table.js';
import { type Filters, LastConversion, overlapping, topicOfPacket } from './topics.js';

/**
 * A subscription's one state: `idle` before it receives and after its link is gone; `receiving` on the link it
 * lives on; `closing` while it closes and takes what the broker had already assigned to it (its late deliveries);
 * `stopped` once it takes nothing more (with whether its UNSUBSCRIBE failed while the link stayed up);
 * `abandoned` once released after closing on its own (see {@link SubscriptionTable}), until the broker confirmed
 * its UNSUBSCRIBE (`unsubscribed`) and another receiver claims the topic.
 */
export type SubscriptionState =
  | { readonly kind: 'idle' }
  | Receiving
  | Closing
  | { readonly kind: 'stopped'; readonly unsubscribeFailed: boolean }
  | { readonly kind: 'abandoned'; unsubscribed: boolean };

/** Receiving on `link`, the link the subscription lives on. */
type Receiving = { readonly kind: 'receiving'; readonly link: MqttLink };
/** Closing on `link`: unsubscribed (or unsubscribing), taking what the broker had already assigned to it. */
type Closing = { readonly kind: 'closing'; readonly link: MqttLink; readonly late: LateDeliveries };

/** What a subscription is: the topic it routes by, its filter, its receiver's prefetch and topic patterns. */
export interface SubscriptionSetup {
  /** The queue name: a named queue's topic, or a topic receiver's space (the first level of what arrives). */
  readonly topic: string;
  /** The topic filter (a topic receiver's filters) it subscribes to. */
  readonly filter: Filters;
  /** How many messages its receiver takes at once. */
  readonly prefetch: number;
  /** A topic receiver's patterns; undefined on a named queue. */
  readonly topics: readonly string[] | undefined;
}

const IDLE: SubscriptionState = Object.freeze({ kind: 'idle' });

/**
 * One receiver's subscription on its connection, for one `connect()`..`closed` cycle of its queue: the
 * receive-side state of its topic ({@link SubscriptionState}), its prefetch window, its nack counts, and the
 * settling of each delivery (PUBACK on `ack()`, the table's hand-back on `nack()`). Claims its topic in the
 * connection's {@link SubscriptionTable} as it is made.
 */
export class Subscription {
  /** The key the table routes by: the queue name. */
  readonly topic: string;
  /** The topic filter (a topic receiver's filters) it subscribes to. */
  readonly filter: Filters;
  readonly #conn: MqttConnectionDriver;
  /** Core's receive path of the receiver (its `QueueCore.deliver`). */
  readonly #toCore: (message: DeliveredMessage) => void;
  readonly #window: PrefetchWindow;
  /**
   * A topic receiver's overlapping patterns as one test: what its space-wide filter brings that they do not match
   * is dropped. Undefined where the broker's filters do all the matching.
   */
  readonly #matches: ((topic: string) => boolean) | undefined;
  /** True on a topic receiver: each delivery carries its topic. */
  readonly #topicRouted: boolean;
  /** A topic receiver's MQTT topic → topic (`orders/eu/created` → `eu.created`). */
  readonly #packetTopics = new LastConversion(topicOfPacket);
  /** How many times each packet was nacked (and handed to the handler again by this client). */
  readonly #nacks = new WeakMap<IPublishPacket, number>();
  #state: SubscriptionState = IDLE;

  /** Claims `setup.topic` on `conn` now; throws `UNSUPPORTED` when another receiver on it has the topic. */
  constructor(
    conn: MqttConnectionDriver,
    toCore: (message: DeliveredMessage) => void,
    setup: SubscriptionSetup,
  ) {
    this.#conn = conn;
    this.#toCore = toCore;
    this.topic = setup.topic;
    this.filter = setup.filter;
    this.#window = new PrefetchWindow(setup.prefetch, conn.readGate, (packet) => this.#feed(packet));
    const { topics } = setup;
    this.#topicRouted = topics !== undefined;
    // Only under the space-wide filter of overlapping patterns: otherwise the broker's filters matched already.
    this.#matches = topics !== undefined && overlapping(topics) ? topicMatcher(topics) : undefined;
    conn.subscriptions.claim(this);
  }

  /** The one state of this subscription. */
  get state(): SubscriptionState {
    return this.#state;
  }

  /** The broker granted the subscription (SUBACK) on `link`: takes what the table held for the topic there. */
  receive(link: MqttLink): void {
    this.#state = { kind: 'receiving', link };
    for (const packet of this.#conn.subscriptions.takeHeld(link, this.topic)) this.take(link, packet);
  }

  /** True while receiving on a link that is up. */
  get attached(): boolean {
    const state = this.#state;
    return state.kind === 'receiving' && state.link.alive;
  }

  /** For the table: takes an incoming message; false unless receiving (or closing) on `link`. */
  take(link: MqttLink, packet: IPublishPacket): boolean {
    const state = this.#state;
    if ((state.kind !== 'receiving' && state.kind !== 'closing') || state.link !== link) return false;
    if (this.#matches !== undefined && !this.#matches(this.#packetTopics.of(packet.topic))) {
      // Under the space-wide filter of overlapping patterns, and none of them matches: not for this receiver.
      void this.#ack(link, packet).catch(() => {});
      return true;
    }
    if (!this.#window.waits(packet)) this.#deliver(state, packet);
    return true;
  }

  /** From the prefetch window: delivers a waiting `packet` now; false (it waits on) unless receiving or closing. */
  #feed(packet: IPublishPacket): boolean {
    const state = this.#state;
    if (state.kind !== 'receiving' && state.kind !== 'closing') return false;
    this.#deliver(state, packet);
    return true;
  }

  /**
   * Hands `packet` to the receiver's core, settled through this subscription (tracked as late while it closes).
   * Each delivery gets its own copy of the bytes: a nack hands the same packet to the handler again, and what the
   * handler did to its copy must not reach the next one (within the bench's noise: A/B, 5 rounds, 256 B 1→1 CPU
   * mq/raw 48/55 with the copy, 51/51 without; 16 KiB 1→3 132/110 with, 119/101 without).
   */
  #deliver(state: Receiving | Closing, packet: IPublishPacket): void {
    const { link } = state;
    const topic = this.#topicRouted ? this.#packetTopics.of(packet.topic) : undefined;
    const settled = this.#window.taken();
    const settle = (requeue: boolean): Promise<void> =>
      settled(requeue ? this.#nack(link, packet) : this.#ack(link, packet));
    const payload = Buffer.isBuffer(packet.payload)
      ? Buffer.from(packet.payload)
      : Buffer.from(packet.payload, 'utf8');
    this.#toCore(
      new SettleOnceMessage(
        payload,
        state.kind === 'closing' ? state.late.track(packet.qos, settle) : settle,
        packetMetadata(packet, this.#nacks.get(packet) ?? 0, topic),
      ),
    );
  }

  /** For the table's hand-back: counts a nack and hands `packet` to this subscription again, on the next turn. */
  redeliver(link: MqttLink, packet: IPublishPacket): void {
    this.#nacks.set(packet, (this.#nacks.get(packet) ?? 0) + 1);
    setImmediate(() => {
      if (this.take(link, packet)) return;
      // It closed meanwhile: the table decides, as for any message of this topic (held for a receiver to come,
      // or acked and reported if the topic was abandoned).
      if (packet.qos > 0 && link.alive) this.#conn.subscriptions.redispatch(link, packet);
    });
  }

  /**
   * Closing a receiver on its own unsubscribes first, on clean and persistent sessions alike: the app no longer
   * wants these messages, and a subscription without a receiver would keep taking its share of a group and
   * fill the connection's in-flight window with messages nobody acks. Deliveries keep reaching the handler
   * while it closes (see `release()`). With `keep` (the whole connection of a persistent session closes) it
   * keeps the subscription, so that the same `clientId` gets what was sent meanwhile.
   */
  async close(keep: boolean): Promise<void> {
    const state = this.#state;
    if (state.kind !== 'receiving' || !state.link.alive || keep) {
      this.#state = { kind: 'stopped', unsubscribeFailed: false };
      return;
    }
    const { link } = state;
    this.#state = { kind: 'closing', link, late: new LateDeliveries() };
    try {
      await link.unsubscribe(this.filter);
    } catch (error) {
      const lostLink = MqttLink.lostWith(error);
      // The link is up but the broker did not confirm (a timeout, a refusal): release() hands the topic to the
      // connection's table, which unsubscribes again and settles whatever still arrives: nothing held forever.
      this.#state = { kind: 'stopped', unsubscribeFailed: !lostLink };
      if (!lostLink) throw error;
    }
  }

  /**
   * Ends the subscription: once its late deliveries are settled (see `#lateSettled`), it gives its topic back to
   * the table, abandoned when it closed on its own (or, on a persistent session, unless `keep`).
   */
  async release(keep: boolean): Promise<void> {
    const state = this.#state;
    try {
      if (state.kind === 'closing') await this.#lateSettled(state.link, state.late);
    } finally {
      this.#state = IDLE;
      // What a closed receiver still has unsettled (a loop broken off leaves its buffered messages unacked for
      // the broker) must not hold the connection's reads.
      const waiting = this.#window.reset();
      const table = this.#conn.subscriptions;
      const link = this.#conn.link;
      // Whatever the broker still sends for this topic is settled and reported by the table, never held.
      let abandon: { unsubscribed: boolean } | undefined;
      if (state.kind === 'closing') abandon = { unsubscribed: true };
      else if (
        (state.kind === 'stopped' && state.unsubscribeFailed) ||
        (!this.#conn.settings.cleanSession && !keep)
      ) {
        // Closed while the link was down: the session still has the subscription; drop it on the next link.
        abandon = { unsubscribed: false };
      }
      table.release(this, abandon, link);
      // What waited for the prefetch is settled as anything arriving for the topic now (kept unacked for a
      // persistent session, acked and reported on a clean one); on a dead link it is the broker's again.
      for (const packet of waiting) if (link?.alive) table.redispatch(link, packet);
    }
  }

  /** For the table: released after closing on its own; `unsubscribed` once the broker confirmed it. */
  abandon(unsubscribed: boolean): void {
    this.#state = { kind: 'abandoned', unsubscribed };
  }

  /** The link dropped: what waited is gone (the broker sends it again to a resumed session). */
  linkDown(): void {
    if (this.#state.kind !== 'abandoned') this.#state = IDLE;
    // Their packet ids mean nothing on the next link: the broker sends them again to a resumed session.
    this.#window.forgetWaiting();
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
        await link.unsubscribe(this.filter);
      } catch {
        return;
      }
      if (late.delivered === seen || Date.now() >= deadline) return;
    }
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
        `cannot ack on '${this.topic}': the link it came on is gone; the broker redelivers it if the session persists`,
      ),
    );
  }

  /** One path: the table decides what becomes of the message (see `SubscriptionTable.handBack`). */
  async #nack(link: MqttLink, packet: IPublishPacket): Promise<void> {
    if (!link.alive) {
      throw errors.error(
        'ACK_FAILED',
        `cannot redeliver on '${this.topic}': the link it came on is gone; the broker redelivers it if the session persists`,
      );
    }
    const outcome = this.#conn.subscriptions.handBack(this, link, packet);
    if (outcome !== 'again') throw errors.error('ACK_FAILED', NOT_AGAIN[outcome](this.topic));
  }
}

/** Why a nack of a message of queue `name` did not hand it back to its receiver, per outcome. */
const NOT_AGAIN: Readonly<Record<Exclude<HandBack, 'again'>, (name: string) => string>> = {
  kept: (name) =>
    `cannot redeliver on '${name}' while it closes: the message stays unacked for the persistent session, which delivers it again`,
  dropped: (name) =>
    `cannot redeliver on '${name}' while it closes: MQTT cannot hand the message back, so it was acked and dropped`,
  returned: (name) =>
    `cannot redeliver on '${name}': the receiver has closed; the message went back to its connection, which hands it to a receiver of this name, or keeps it unacked for a persistent session, or (clean session) acks and drops it (reported)`,
};
