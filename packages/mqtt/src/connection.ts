import { BaseConnection, MqError } from '@mq/core';
import type { IPublishPacket } from 'mqtt';
import { MqttLink } from './link.js';
import {
  type MqttConnectionOptions,
  PKG,
  type ResolvedConnectionOptions,
  resolveConnectionOptions,
} from './options.js';

/** A link that stayed up shorter than this counts as a flap and doubles the next reconnect delay. */
const STABLE_MILLIS = 10_000;
/** The reconnect delay never grows past this (or `reconnectMillis`, if larger). */
const MAX_BACKOFF_MILLIS = 30_000;

/** SPI: what a receiver queue offers the connection's message dispatch. */
export interface ReceiverSink {
  /** Takes an incoming message that arrived on `link`; false when not receiving on that link right now. */
  take(link: MqttLink, packet: IPublishPacket): boolean;
}

/**
 * A connection to an MQTT broker through mqtt.js. One connection carries many queues; incoming messages go
 * only to the receiver of their topic. mqtt.js's own reconnect is off: this connection reconnects after every
 * loss, backing off while links keep dropping soon after connecting (such as a client id fight).
 */
export class MqttConnection extends BaseConnection {
  /** The validated options, with the client id in use (random unless given). */
  readonly settings: Readonly<ResolvedConnectionOptions>;
  #link: MqttLink | undefined;
  readonly #receivers = new Map<string, ReceiverSink>();
  #flaps = 0;
  #openedAt = 0;

  /** Validates the options (never mutating them); the connection starts `closed`. */
  constructor(options: MqttConnectionOptions = {}) {
    const settings = resolveConnectionOptions(options);
    super(settings.reconnectMillis);
    this.settings = Object.freeze(settings);
  }

  /** The MQTT client identifier this connection uses. */
  get clientId(): string {
    return this.settings.clientId;
  }

  /** SPI for queues: the open link, if any. */
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

  /** SPI: a receiver claims its topic; throws `UNSUPPORTED` when another receiver on this connection has it. */
  claimTopic(topic: string, receiver: ReceiverSink): void {
    const holder = this.#receivers.get(topic);
    if (holder && holder !== receiver) {
      throw new MqError(
        'UNSUPPORTED',
        `[${PKG}] this connection already has a receiver for '${topic}'; MQTT cannot tell their messages apart: use one connection per receiver of the same name`,
      );
    }
    this.#receivers.set(topic, receiver);
  }

  /** SPI: a receiver gives its topic back. */
  releaseTopic(topic: string, receiver: ReceiverSink): void {
    if (this.#receivers.get(topic) === receiver) this.#receivers.delete(topic);
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
    this.#openedAt = Date.now();
  }

  protected override async closeLink(): Promise<void> {
    const link = this.#link;
    this.#link = undefined;
    await link?.close();
  }

  protected override retryDelayMillis(): number {
    const cap = Math.max(MAX_BACKOFF_MILLIS, this.reconnectMillis);
    return Math.min(this.reconnectMillis * 2 ** Math.min(Math.max(this.#flaps - 1, 0), 20), cap);
  }

  #dispatch(link: MqttLink, packet: IPublishPacket): boolean {
    if (this.#receivers.get(packet.topic)?.take(link, packet)) return true;
    // Nobody receives this topic right now (a resumed session delivers before receivers re-subscribe, or a
    // receiver just closed): keep a QoS 1 message unacked for the next receiver, drop a QoS 0 one.
    if (packet.qos === 0) return false;
    link.keepOrphan(packet);
    return true;
  }

  #onLost(link: MqttLink, error: MqError, takenOver: boolean): void {
    if (this.#link !== link) return;
    this.#link = undefined;
    const lived = Date.now() - this.#openedAt;
    const young = lived < STABLE_MILLIS;
    this.#flaps = takenOver || young ? this.#flaps + 1 : 0;
    // Mosquitto 2.0 and MQTT 3.1.1 brokers just close the socket on a takeover: a young link hints at one.
    const hint =
      young && !takenOver
        ? `; it dropped ${lived} ms after connecting: does another client use clientId '${this.clientId}'?`
        : '';
    const next = `; reconnecting in ${this.retryDelayMillis()} ms`;
    this.linkLost(new MqError(error.code, `${error.message}${hint}${next}`, { cause: error.cause }));
  }
}
