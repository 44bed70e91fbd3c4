import { LegacyBaseConnection, MqError, STABLE_LINK_MILLIS } from '@mq/core/spi';
import { MqttLink } from './link.js';
import {
  type MqttConnectionOptions,
  type ResolvedConnectionOptions,
  resolveConnectionOptions,
} from './options.js';
import { Subscriptions } from './subscriptions.js';

/**
 * A connection to an MQTT broker through mqtt.js. One connection carries many queues; incoming messages go
 * only to the receiver of their topic. mqtt.js's own reconnect is off: this connection reconnects after every
 * loss, backing off while attempts fail or links keep dropping soon after connecting (such as a client id fight).
 */
export class MqttConnection extends LegacyBaseConnection {
  /** The validated options, with the client id in use (random unless given). */
  readonly settings: Readonly<ResolvedConnectionOptions>;
  #link: MqttLink | undefined;
  readonly #subscriptions = new Subscriptions((error) => this.reportError(error));

  /** Validates the options (never mutating them); the connection starts `closed`. */
  constructor(options: MqttConnectionOptions = {}) {
    const settings = resolveConnectionOptions(options);
    super({ ...settings, addresses: settings.addresses.map((address) => address.safeUri) });
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

  /**
   * For MqttQueue: where each topic's messages go on this connection.
   * @internal
   */
  get subscriptions(): Subscriptions {
    return this.#subscriptions;
  }

  /** True when the broker resumed a stored session on the current link (`cleanSession: false`). */
  get sessionPresent(): boolean {
    return this.#link?.sessionPresent ?? false;
  }

  /** Drops the network link as a failure would (no DISCONNECT); the connection reconnects by itself. For tests. */
  simulateDrop(): void {
    this.#link?.destroy();
  }

  protected override async openLink(): Promise<void> {
    const link = new MqttLink(this.settings, this.addressIndex, {
      onMessage: (from, packet) => this.#subscriptions.dispatch(from, packet),
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
    this.#subscriptions.unsubscribeAbandoned(link);
  }

  protected override async closeLink(): Promise<void> {
    this.#subscriptions.linkEnded();
    const link = this.#link;
    this.#link = undefined;
    await link?.close();
  }

  #onLost(link: MqttLink, error: MqError, takenOver: boolean): void {
    if (this.#link !== link) return;
    this.#link = undefined;
    this.#subscriptions.linkEnded();
    // Mosquitto 2.0 and MQTT 3.1.1 brokers just close the socket on a takeover: a young link hints at one (the
    // backoff of BaseConnection keeps growing while links drop young, so a client id fight slows down).
    const lived = this.connectedMillis;
    const hint =
      lived < STABLE_LINK_MILLIS && !takenOver
        ? `; it dropped ${lived} ms after connecting: does another client use clientId '${this.clientId}'?`
        : '';
    // A takeover is no accident: the backoff keeps growing, so that two clients with one id do not keep fighting.
    this.notifyLinkLost(
      new MqError(error.code, `${error.message}${hint}`, { cause: error.cause }),
      takenOver,
    );
  }
}
