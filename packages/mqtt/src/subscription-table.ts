import type { MqError } from '@mq/core/spi';
import type { IPublishPacket } from 'mqtt';
import { DropReports } from './drop-reports.js';
import { errors } from './errors.js';
import { MqttLink } from './link.js';
import type { Subscription } from './subscription.js';
import { routeKey } from './topics.js';

/** What became of a nacked message (see {@link SubscriptionTable.handBack}). */
export type HandBack = 'again' | 'kept' | 'dropped' | 'returned';

/**
 * Where each topic's messages go on one connection, and each topic's receive-side state, in one place. Per topic
 * (a named queue's topic, or a topic space: the first level of what arrives), one of:
 * - **claimed**: a {@link Subscription} on this connection takes them (MQTT cannot tell two receivers of one topic
 *   on one connection apart, so there is at most one); it says whether it is receiving or closing;
 * - **abandoned**: its subscription closed on its own; what still arrives (the broker had assigned it to this
 *   session) is, on a clean session, acked at once and counted, so that it never fills the in-flight window
 *   every other receiver of the connection needs (the session would lose it anyway); on a persistent session it
 *   is held unacked (as for an unknown topic), so that the session delivers it again: to a receiver of the topic
 *   that opens on this link, or on the session's next link. Either is reported in one `error` per topic. An
 *   abandoned topic whose UNSUBSCRIBE did not reach the broker (closed while the link was down, or refused) is
 *   unsubscribed on the next link;
 * - **unknown**: nobody receives it yet (a resumed session delivers before its receivers subscribe again, or a
 *   receiver is opening): QoS 1 messages are held unacked, for the current link only, until a receiver claims it.
 */
export class SubscriptionTable {
  readonly #report: (error: MqError) => void;
  /** The session persists: what the broker assigned to it is never acked on a receiver's behalf. */
  readonly #persistent: boolean;
  /** The claimed and abandoned topics: each one's subscription. */
  readonly #topics = new Map<string, Subscription>();
  /** QoS 1 messages of unknown topics, held unacked on `link` (their packet ids mean nothing on another). */
  #held: { link: MqttLink; byTopic: Map<string, IPublishPacket[]> } | undefined;
  /** Late messages of abandoned or closing topics, reported one `error` per topic. */
  readonly #drops: DropReports;

  /** `report` emits an `error` on the connection; `persistent` is true for `cleanSession: false`. */
  constructor(report: (error: MqError) => void, persistent: boolean) {
    this.#report = report;
    this.#persistent = persistent;
    this.#drops = new DropReports(report, persistent);
  }

  /** A subscription claims its topic; throws `UNSUPPORTED` when another receiver on this connection has it. */
  claim(subscription: Subscription): void {
    const { topic } = subscription;
    const holder = this.#topics.get(topic);
    if (holder && holder !== subscription && holder.state.kind !== 'abandoned') {
      throw errors.error(
        'UNSUPPORTED',
        `this connection already has a receiver for '${topic}'; MQTT cannot tell their messages apart: use one connection per receiver of the same name`,
      );
    }
    this.#topics.set(topic, subscription);
  }

  /**
   * A subscription gives its topic back: it stays unknown, unless `abandon` says the subscription closed on its own
   * (see the class; `unsubscribed` false when its filter is still to be dropped, on `link` now or on the next link).
   */
  release(
    subscription: Subscription,
    abandon: { unsubscribed: boolean } | undefined,
    link: MqttLink | undefined,
  ): void {
    const { topic } = subscription;
    if (this.#topics.get(topic) === subscription) this.#topics.delete(topic);
    const holder = this.#topics.get(topic);
    if (abandon === undefined || (holder && holder.state.kind !== 'abandoned')) return;
    subscription.abandon(abandon.unsubscribed);
    this.#topics.set(topic, subscription);
    if (!link) return;
    // A persistent session keeps what is held: it stays unacked for the session to deliver again.
    if (!this.#persistent) {
      for (const packet of this.takeHeld(link, topic)) {
        if (link.puback(packet.messageId as number)) this.#drops.count(topic);
      }
    }
    if (!abandon.unsubscribed) this.unsubscribeAbandoned(link);
  }

  /** Hands the held messages of `topic` on `link` to its new receiver (and forgets them). */
  takeHeld(link: MqttLink, topic: string): IPublishPacket[] {
    if (this.#held?.link !== link) return [];
    const list = this.#held.byTopic.get(topic) ?? [];
    this.#held.byTopic.delete(topic);
    return list;
  }

  /**
   * Routes an incoming message by its topic. False tells the link to acknowledge it at once (QoS 0 with nobody
   * to take it, or an abandoned topic); true means a receiver took it or it is held.
   */
  dispatch(link: MqttLink, packet: IPublishPacket): boolean {
    // By first level: a named queue's topic, or a topic space whose receiver takes every topic under it.
    const topic = routeKey(packet.topic);
    const subscription = this.#topics.get(topic);
    if (subscription?.take(link, packet)) return true;
    if (packet.qos === 0) return false;
    if (subscription?.state.kind === 'abandoned') {
      this.#drops.count(topic);
      if (!this.#persistent) return false;
    }
    this.#hold(link, packet);
    return true;
  }

  /**
   * The one path of a nack (MQTT has none: the message stays unacked at the broker) of a message `from` delivered
   * from `link`, which is alive. Receiving on that link, `from` gets it again (`again`); closing on it, a
   * persistent session keeps it unacked, held for a receiver of its topic on the link, else for the session's next
   * link (`kept`), a clean session acks and drops it (`dropped`): MQTT cannot hand it back to the group, and
   * unacked it would hold a place in the in-flight window every other receiver needs until the link ends; closed,
   * it is routed again as any message of its topic arriving now (`returned`). Kept and dropped ones are reported.
   */
  handBack(from: Subscription, link: MqttLink, packet: IPublishPacket): HandBack {
    const state = from.state;
    if (state.kind === 'receiving' && state.link === link) {
      from.redeliver(link, packet);
      return 'again';
    }
    if (state.kind === 'closing' && state.link === link) {
      if (this.#persistent) {
        this.#drops.count(routeKey(packet.topic));
        this.#hold(link, packet);
        return 'kept';
      }
      if (packet.qos > 0) link.puback(packet.messageId as number);
      return 'dropped';
    }
    if (packet.qos > 0) this.redispatch(link, packet);
    return 'returned';
  }

  #hold(link: MqttLink, packet: IPublishPacket): void {
    const topic = routeKey(packet.topic);
    if (this.#held?.link !== link) this.#held = { link, byTopic: new Map() };
    const list = this.#held.byTopic.get(topic) ?? [];
    list.push(packet);
    this.#held.byTopic.set(topic, list);
  }

  /**
   * Routes a QoS 1 message again (a nack whose receiver closed meanwhile); acks it when nobody may hold it.
   * Failures become an `error`, never a throw.
   */
  redispatch(link: MqttLink, packet: IPublishPacket): void {
    try {
      if (!this.dispatch(link, packet)) link.puback(packet.messageId as number);
    } catch (error) {
      this.#report(errors.wrap(error, 'BROKER', `settling a message for '${packet.topic}' failed`));
    }
  }

  /** Sends the UNSUBSCRIBEs of abandoned topics the broker has not confirmed, on `link`. */
  unsubscribeAbandoned(link: MqttLink): void {
    for (const subscription of this.#topics.values()) {
      const entry = subscription.state;
      if (entry.kind !== 'abandoned' || entry.unsubscribed) continue;
      link.unsubscribe(subscription.filter).then(
        () => {
          if (subscription.state === entry) entry.unsubscribed = true;
        },
        (error: unknown) => {
          if (MqttLink.lostWith(error)) return;
          this.#report(
            errors.wrap(
              error,
              'BROKER',
              `unsubscribing from '${subscription.filter}' (its receiver closed) failed`,
            ),
          );
        },
      );
    }
  }

  /** The link ended: what was held on it is gone (the broker resends it to a resumed session); drops are reported. */
  linkEnded(): void {
    this.#held = undefined;
    this.#drops.report();
  }
}
