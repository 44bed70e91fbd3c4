import { BaseConnection, MqError, STABLE_LINK_MILLIS, toMqError } from '@mq/core';
import type { IPublishPacket } from 'mqtt';
import { MqttLink } from './link.js';
import {
  type MqttConnectionOptions,
  PKG,
  type ResolvedConnectionOptions,
  resolveConnectionOptions,
} from './options.js';

/** Messages dropped for one closed topic within this long after the first are reported in one `error` event. */
const DROP_REPORT_MILLIS = 100;

/**
 * For MqttQueue: what a receiver queue offers the connection's message dispatch.
 * @internal
 */
export interface ReceiverSink {
  /** Takes an incoming message that arrived on `link`; false when not receiving on that link right now. */
  take(link: MqttLink, packet: IPublishPacket): boolean;
}

/**
 * A connection to an MQTT broker through mqtt.js. One connection carries many queues; incoming messages go
 * only to the receiver of their topic. mqtt.js's own reconnect is off: this connection reconnects after every
 * loss, backing off while attempts fail or links keep dropping soon after connecting (such as a client id fight).
 */
export class MqttConnection extends BaseConnection {
  /** The validated options, with the client id in use (random unless given). */
  readonly settings: Readonly<ResolvedConnectionOptions>;
  #link: MqttLink | undefined;
  readonly #receivers = new Map<string, ReceiverSink>();
  /**
   * Topics whose receiver closed on its own (`queue.close()`), with their subscription filter and whether the
   * broker has confirmed the UNSUBSCRIBE. What still arrives for them is acked and reported, never held.
   */
  readonly #abandoned = new Map<string, { filter: string; unsubscribed: boolean }>();
  /** Late messages acked and dropped per abandoned topic, not yet reported. */
  readonly #dropped = new Map<string, number>();
  #dropTimer: NodeJS.Timeout | undefined;

  /** Validates the options (never mutating them); the connection starts `closed`. */
  constructor(options: MqttConnectionOptions = {}) {
    const settings = resolveConnectionOptions(options);
    super(settings);
    this.settings = Object.freeze(settings);
  }

  /** The MQTT client identifier this connection uses. */
  get clientId(): string {
    return this.settings.clientId;
  }

  /**
   * For MqttQueue: the open link, if any.
   * @internal
   */
  get link(): MqttLink | undefined {
    return this.#link;
  }

  /** True when the broker resumed a stored session on the current link (`cleanSession: false`). */
  get sessionPresent(): boolean {
    return this.#link?.sessionPresent ?? false;
  }

  /** Drops the network link as a failure would (no DISCONNECT); the connection reconnects by itself. For tests. */
  simulateDrop(): void {
    this.#link?.destroy();
  }

  /**
   * For MqttQueue: a receiver claims its topic; throws `UNSUPPORTED` when another receiver on this connection has it.
   * @internal
   */
  claimTopic(topic: string, receiver: ReceiverSink): void {
    const holder = this.#receivers.get(topic);
    if (holder && holder !== receiver) {
      throw new MqError(
        'UNSUPPORTED',
        `[${PKG}] this connection already has a receiver for '${topic}'; MQTT cannot tell their messages apart: use one connection per receiver of the same name`,
      );
    }
    this.#receivers.set(topic, receiver);
    this.#abandoned.delete(topic);
  }

  /**
   * For MqttQueue: a receiver gives its topic back.
   * @internal
   */
  releaseTopic(topic: string, receiver: ReceiverSink): void {
    if (this.#receivers.get(topic) === receiver) this.#receivers.delete(topic);
  }

  /**
   * For MqttQueue: a receiver closed on its own and no longer wants `topic`. Messages that still come for it (the broker
   * had them queued, or redelivers them to a resumed session) are acked and reported, so that they never fill
   * the in-flight window of the other receivers. When `unsubscribed` is false (closed while the link was down)
   * the subscription `filter` is dropped on the next link.
   * @internal
   */
  abandonTopic(topic: string, filter: string, unsubscribed: boolean): void {
    if (this.#receivers.has(topic)) return;
    this.#abandoned.set(topic, { filter, unsubscribed });
    const link = this.#link;
    if (!link) return;
    for (const packet of link.takeOrphans(topic)) {
      if (link.puback(packet.messageId as number)) this.#countDropped(topic);
    }
    if (!unsubscribed) this.#unsubscribeAbandoned(link);
  }

  protected override async openLink(): Promise<void> {
    const link = new MqttLink(this.settings, {
      onMessage: (from, packet) => this.#dispatch(from, packet),
      onLost: (from, error, takenOver) => this.#onLost(from, error, takenOver),
      onError: (error) => this.reportError(error),
    });
    this.#link = link;
    try {
      await link.opened();
    } catch (error) {
      if (this.#link === link) this.#link = undefined;
      throw error;
    }
    this.#unsubscribeAbandoned(link);
  }

  protected override async closeLink(): Promise<void> {
    this.#reportDropped();
    const link = this.#link;
    this.#link = undefined;
    await link?.close();
  }

  /**
   * Routes a QoS 1 message again (a nack whose receiver closed meanwhile); settles it if nobody may hold it.
   * @internal
   */
  redispatch(link: MqttLink, packet: IPublishPacket): void {
    try {
      if (!this.#dispatch(link, packet)) link.puback(packet.messageId as number);
    } catch (error) {
      this.reportError(
        toMqError(error, 'BROKER', `[${PKG}] settling a message for '${packet.topic}' failed`),
      );
    }
  }

  #dispatch(link: MqttLink, packet: IPublishPacket): boolean {
    if (this.#receivers.get(packet.topic)?.take(link, packet)) return true;
    if (packet.qos === 0) return false;
    // Its receiver closed: returning false makes the link PUBACK it at once, so that it never holds a place in
    // the in-flight window that every other receiver of this connection needs.
    if (this.#abandoned.has(packet.topic)) {
      this.#countDropped(packet.topic);
      return false;
    }
    // Nobody receives this topic yet (a resumed session delivers before receivers re-subscribe, or a receiver
    // is opening): keep a QoS 1 message unacked for the next receiver.
    link.keepOrphan(packet);
    return true;
  }

  /** Sends the UNSUBSCRIBEs of receivers that closed while the link was down. */
  #unsubscribeAbandoned(link: MqttLink): void {
    for (const [topic, entry] of this.#abandoned) {
      if (entry.unsubscribed) continue;
      link.guard(link.client.unsubscribeAsync(entry.filter)).then(
        () => {
          if (this.#abandoned.get(topic) === entry) entry.unsubscribed = true;
        },
        (error: unknown) => {
          if (MqError.hasCode(error, 'CONNECTION_LOST') || MqError.hasCode(error, 'CLOSED')) return;
          this.reportError(
            toMqError(
              error,
              'BROKER',
              `[${PKG}] unsubscribing from '${entry.filter}' (its receiver closed) failed`,
            ),
          );
        },
      );
    }
  }

  #countDropped(topic: string): void {
    this.#dropped.set(topic, (this.#dropped.get(topic) ?? 0) + 1);
    this.#dropTimer ??= setTimeout(() => this.#reportDropped(), DROP_REPORT_MILLIS).unref();
  }

  #reportDropped(): void {
    clearTimeout(this.#dropTimer);
    this.#dropTimer = undefined;
    const dropped = [...this.#dropped];
    this.#dropped.clear();
    for (const [topic, count] of dropped) {
      this.reportError(
        new MqError(
          'BROKER',
          `[${PKG}] ${count} message(s) for '${topic}' arrived after its receiver closed (the broker had already assigned them to this session); acked and dropped`,
        ),
      );
    }
  }

  #onLost(link: MqttLink, error: MqError, takenOver: boolean): void {
    if (this.#link !== link) return;
    this.#link = undefined;
    // Mosquitto 2.0 and MQTT 3.1.1 brokers just close the socket on a takeover: a young link hints at one (the
    // backoff of BaseConnection keeps growing while links drop young, so a client id fight slows down).
    const lived = this.connectedMillis;
    const hint =
      lived < STABLE_LINK_MILLIS && !takenOver
        ? `; it dropped ${lived} ms after connecting: does another client use clientId '${this.clientId}'?`
        : '';
    this.notifyLinkLost(new MqError(error.code, `${error.message}${hint}`, { cause: error.cause }));
  }
}
