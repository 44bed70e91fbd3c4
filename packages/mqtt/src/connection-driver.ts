import { type LinkCore, type LinkDriver, MqError, STABLE_LINK_MILLIS } from '@mq/core/spi';
import { MqttLink } from './link.js';
import type { ResolvedConnectionOptions } from './options.js';
import { ReadGate } from './read-gate.js';
import { Subscriptions } from './subscriptions.js';

/**
 * The link driver of an `MqttConnection`: a new `MqttLink` (one mqtt.js client) for each network link, and the
 * connection's table of subscriptions, which outlives the links. Its queues reach it through
 * {@link mqttDriverOf}, never through the connection class apps hold.
 */
export class MqttConnectionDriver implements LinkDriver {
  /** The validated options, with the client id in use. */
  readonly settings: Readonly<ResolvedConnectionOptions>;
  /** Where each topic's messages go on this connection. */
  readonly subscriptions: Subscriptions;
  /** Holds socket reads while a receiver holds its prefetch of messages in the process. */
  readonly readGate = new ReadGate();
  readonly #core: LinkCore;
  #link: MqttLink | undefined;

  constructor(core: LinkCore, settings: Readonly<ResolvedConnectionOptions>) {
    this.#core = core;
    this.settings = settings;
    this.subscriptions = new Subscriptions((error) => core.reportError(error), !settings.cleanSession);
  }

  /** The open link, if any. */
  get link(): MqttLink | undefined {
    return this.#link;
  }

  async open(): Promise<void> {
    const link = new MqttLink(this.settings, this.#core.addressIndex, {
      onMessage: (from, packet) => this.subscriptions.dispatch(from, packet),
      onLost: (from, error, takenOver) => this.#onLost(from, error, takenOver),
      onError: (error) => this.#core.reportError(error),
      whenReadable: (resume) => this.readGate.whenOpen(resume),
    });
    this.#link = link;
    try {
      await link.opened();
    } catch (error) {
      if (this.#link === link) this.#link = undefined;
      throw error;
    }
    this.subscriptions.unsubscribeAbandoned(link);
  }

  async close(): Promise<void> {
    this.subscriptions.linkEnded();
    this.readGate.reset();
    const link = this.#link;
    this.#link = undefined;
    await link?.close();
  }

  #onLost(link: MqttLink, error: MqError, takenOver: boolean): void {
    if (this.#link !== link) return;
    this.#link = undefined;
    this.subscriptions.linkEnded();
    // Packets waiting behind a full receiver belong to the dead link.
    this.readGate.reset();
    // Mosquitto 2.0 and MQTT 3.1.1 brokers just close the socket on a takeover: a young link hints at one (the
    // backoff of BaseConnection keeps growing while links drop young, so a client id fight slows down).
    const lived = this.#core.connectedMillis;
    const hint =
      lived < STABLE_LINK_MILLIS && !takenOver
        ? `; it dropped ${lived} ms after connecting: does another client use clientId '${this.settings.clientId}'?`
        : '';
    // A takeover is no accident: the backoff keeps growing, so that two clients with one id do not keep fighting.
    this.#core.linkLost(
      new MqError(error.code, `${error.message}${hint}`, { cause: error.cause }),
      takenOver,
    );
  }
}

/** The driver of each connection of this backend. */
const DRIVERS = new WeakMap<object, MqttConnectionDriver>();

/** Records `driver` as the link driver of `connection` (its constructor does). */
export function registerDriver(connection: object, driver: MqttConnectionDriver): void {
  DRIVERS.set(connection, driver);
}

/** The link driver of `connection`, if it is a connection of this backend. */
export function mqttDriverOf(connection: object): MqttConnectionDriver | undefined {
  return DRIVERS.get(connection);
}
