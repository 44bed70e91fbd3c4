import type { MqError } from '@mq/core/spi';
import type { IPublishPacket } from 'mqtt';
import { errors } from './errors.js';
import { MqttLink } from './link.js';
import { type Filters, routeKey } from './topics.js';

/** Messages dropped for one closed topic within this long after the first are reported in one `error` event. */
const DROP_REPORT_MILLIS = 100;

/** What a receiver queue offers the table: it takes the messages of its topic. */
export interface ReceiverSink {
  /** Takes an incoming message that arrived on `link`; false when not receiving on that link right now. */
  take(link: MqttLink, packet: IPublishPacket): boolean;
}

/**
 * Where each topic's messages go on one connection, in one place. Per topic, one of:
 * - **claimed**: a receiver on this connection takes them (MQTT cannot tell two receivers of one topic on one
 *   connection apart, so there is at most one);
 * - **abandoned**: its receiver closed on its own; what still arrives (the broker had assigned it to this
 *   session) is, on a clean session, acked at once and counted, so that it never fills the in-flight window
 *   every other receiver of the connection needs (the session would lose it anyway); on a persistent session it
 *   is held unacked (as for an unknown topic), so that the session delivers it again: to a receiver of the topic
 *   that opens on this link, or on the session's next link. Either is reported in one `error` per topic. An
 *   abandoned topic whose UNSUBSCRIBE did not reach the broker (closed while the link was down, or refused) is
 *   unsubscribed on the next link;
 * - **unknown**: nobody receives it yet (a resumed session delivers before its receivers subscribe again, or a
 *   receiver is opening): QoS 1 messages are held unacked, for the current link only, until a receiver claims it.
 */
export class Subscriptions {
  readonly #report: (error: MqError) => void;
  /** The session persists: what the broker assigned to it is never acked on a receiver's behalf. */
  readonly #persistent: boolean;
  readonly #receivers = new Map<string, ReceiverSink>();
  /** Abandoned topics: their subscription filter and whether the broker confirmed the UNSUBSCRIBE. */
  readonly #abandoned = new Map<string, { filter: Filters; unsubscribed: boolean }>();
  /** QoS 1 messages of unknown topics, held unacked on `link` (their packet ids mean nothing on another). */
  #held: { link: MqttLink; byTopic: Map<string, IPublishPacket[]> } | undefined;
  /** Late messages acked and dropped (clean session) or kept unacked (persistent) per abandoned topic, not yet reported. */
  readonly #dropped = new Map<string, number>();
  #dropTimer: NodeJS.Timeout | undefined;

  /** `report` emits an `error` on the connection; `persistent` is true for `cleanSession: false`. */
  constructor(report: (error: MqError) => void, persistent: boolean) {
    this.#report = report;
    this.#persistent = persistent;
  }

  /** A receiver claims its topic; throws `UNSUPPORTED` when another receiver on this connection has it. */
  claim(topic: string, receiver: ReceiverSink): void {
    const holder = this.#receivers.get(topic);
    if (holder && holder !== receiver) {
      throw errors.error(
        'UNSUPPORTED',
        `this connection already has a receiver for '${topic}'; MQTT cannot tell their messages apart: use one connection per receiver of the same name`,
      );
    }
    this.#receivers.set(topic, receiver);
    this.#abandoned.delete(topic);
  }

  /** A receiver gives its topic back (it stays unknown unless abandoned). */
  release(topic: string, receiver: ReceiverSink): void {
    if (this.#receivers.get(topic) === receiver) this.#receivers.delete(topic);
  }

  /** Hands the held messages of `topic` on `link` to its new receiver (and forgets them). */
  takeHeld(link: MqttLink, topic: string): IPublishPacket[] {
    if (this.#held?.link !== link) return [];
    const list = this.#held.byTopic.get(topic) ?? [];
    this.#held.byTopic.delete(topic);
    return list;
  }

  /**
   * A receiver closed on its own and no longer wants `topic`: it becomes abandoned (see the class). When
   * `unsubscribed` is false the subscription `filter` is dropped on `link` now, or on the next link.
   */
  abandon(topic: string, filter: Filters, unsubscribed: boolean, link: MqttLink | undefined): void {
    if (this.#receivers.has(topic)) return;
    this.#abandoned.set(topic, { filter, unsubscribed });
    if (!link) return;
    // A persistent session keeps what is held: it stays unacked for the session to deliver again.
    if (!this.#persistent) {
      for (const packet of this.takeHeld(link, topic)) {
        if (link.puback(packet.messageId as number)) this.#countDropped(topic);
      }
    }
    if (!unsubscribed) this.unsubscribeAbandoned(link);
  }

  /**
   * Routes an incoming message by its topic. False tells the link to acknowledge it at once (QoS 0 with nobody
   * to take it, or an abandoned topic); true means a receiver took it or it is held.
   */
  dispatch(link: MqttLink, packet: IPublishPacket): boolean {
    // By first level: a named queue's topic, or a topic space whose receiver takes every topic under it.
    const topic = routeKey(packet.topic);
    if (this.#receivers.get(topic)?.take(link, packet)) return true;
    if (packet.qos === 0) return false;
    if (this.#abandoned.has(topic)) {
      this.#countDropped(topic);
      if (!this.#persistent) return false;
    }
    this.#hold(link, packet);
    return true;
  }

  /**
   * Keeps a QoS 1 message of a closing receiver of a persistent session unacked, held for a receiver of its topic
   * on `link` (the session delivers it again on its next link otherwise), and counts it for the report.
   */
  keep(link: MqttLink, packet: IPublishPacket): void {
    this.#countDropped(routeKey(packet.topic));
    this.#hold(link, packet);
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
    for (const [topic, entry] of this.#abandoned) {
      if (entry.unsubscribed) continue;
      link.unsubscribe(entry.filter).then(
        () => {
          if (this.#abandoned.get(topic) === entry) entry.unsubscribed = true;
        },
        (error: unknown) => {
          if (MqttLink.lostWith(error)) return;
          this.#report(
            errors.wrap(error, 'BROKER', `unsubscribing from '${entry.filter}' (its receiver closed) failed`),
          );
        },
      );
    }
  }

  /** The link ended: what was held on it is gone (the broker resends it to a resumed session); drops are reported. */
  linkEnded(): void {
    this.#held = undefined;
    this.reportDropped();
  }

  /** Reports the drops counted so far, one `error` per topic. */
  reportDropped(): void {
    clearTimeout(this.#dropTimer);
    this.#dropTimer = undefined;
    const dropped = [...this.#dropped];
    this.#dropped.clear();
    for (const [topic, count] of dropped) {
      this.#report(
        errors.error(
          'BROKER',
          this.#persistent
            ? `${count} message(s) for '${topic}' came after its receiver closed (the broker had already assigned them to this session); kept unacked for the persistent session: a receiver of '${topic}' opened on this connection takes them, else the session's next connection gets them again. Until then they hold places in this connection's in-flight window`
            : `${count} message(s) for '${topic}' arrived after its receiver closed (the broker had already assigned them to this session); acked and dropped`,
        ),
      );
    }
  }

  #countDropped(topic: string): void {
    this.#dropped.set(topic, (this.#dropped.get(topic) ?? 0) + 1);
    this.#dropTimer ??= setTimeout(() => this.reportDropped(), DROP_REPORT_MILLIS).unref();
  }
}
