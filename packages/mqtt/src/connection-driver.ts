import { connect as connectTcp } from 'node:net';
import { type LinkCore, type LinkDriver, MqError, STABLE_LINK_MILLIS } from '@mq/core/spi';
import { errors } from './errors.js';
import { MqttLink } from './link.js';
import type { ResolvedConnectionOptions } from './options.js';
import { ReadGate } from './read-gate.js';
import { Replies } from './replies.js';
import { SubscriptionTable } from './subscription-table.js';

/**
 * The link driver of an `MqttConnection`: a new `MqttLink` (one mqtt.js client) for each network link, and the
 * connection's table of subscriptions, which outlives the links. Its queues reach it through
 * {@link mqttDriverOf}, never through the connection class apps hold.
 */
export class MqttConnectionDriver implements LinkDriver {
  /** The validated options, with the client id in use. */
  readonly settings: Readonly<ResolvedConnectionOptions>;
  /** Where each topic's messages go on this connection. */
  readonly subscriptions: SubscriptionTable;
  /** Holds socket reads while a receiver holds its prefetch of messages in the process. */
  readonly readGate = new ReadGate((held) => this.#link?.holdReads(held));
  /** The replies to this connection's requests. */
  readonly replies: Replies;
  readonly #core: LinkCore;
  #link: MqttLink | undefined;
  /** A link of this connection has had the persistent session (so a CONNACK without it means it was lost). */
  #hadSession = false;

  constructor(core: LinkCore, settings: Readonly<ResolvedConnectionOptions>) {
    this.#core = core;
    this.settings = settings;
    this.subscriptions = new SubscriptionTable((error) => core.reportError(error), !settings.cleanSession);
    this.replies = new Replies(settings.clientId, (error) => core.reportError(error));
  }

  /** The open link, if any. */
  get link(): MqttLink | undefined {
    return this.#link;
  }

  async open(): Promise<void> {
    const link = new MqttLink(this.settings, this.#core.addressIndex, {
      onMessage: (from, packet) =>
        this.replies.owns(packet) ? this.replies.dispatch(packet) : this.subscriptions.dispatch(from, packet),
      onLost: (from, error, takenOver) => this.#onLost(from, error, takenOver),
      onError: (error) => this.#core.reportError(error),
      whenReadable: (resume) => this.readGate.whenOpen(resume),
    });
    this.#link = link;
    // Held already: a packet that comes with the CONNACK (a session's backlog) must wait as well.
    if (this.readGate.held) link.holdReads(true);
    try {
      await link.opened();
    } catch (error) {
      if (this.#link === link) this.#link = undefined;
      throw error;
    }
    this.subscriptions.unsubscribeAbandoned(link);
    this.replies.linkOpened(link);
    if (this.readGate.held) link.holdReads(true);
    if (!this.settings.cleanSession) {
      // A persistent session this connection had before and the broker did not keep (restarted without
      // persistence, session expired, taken and cleaned by another client): what it held is gone. Say so.
      if (this.#hadSession && !link.sessionPresent) {
        this.#core.reportError(
          errors.error(
            'BROKER',
            `${link.url} did not resume the persistent session of clientId '${this.settings.clientId}' (CONNACK session present false): what it kept for the session (messages sent while away, unacked ones) is gone; the receivers subscribe again`,
          ),
        );
      }
      this.#hadSession = true;
    }
  }

  async close(): Promise<void> {
    this.subscriptions.linkEnded();
    this.readGate.reset();
    this.replies.linkEnded();
    const link = this.#link;
    this.#link = undefined;
    await link?.close();
  }

  #onLost(link: MqttLink, error: MqError, takenOver: boolean): void {
    if (this.#link !== link) return;
    this.#link = undefined;
    this.subscriptions.linkEnded();
    this.replies.linkEnded();
    // Packets waiting behind a full receiver belong to the dead link.
    this.readGate.reset();
    const lived = this.#core.connectedMillis;
    const report = (hint: string): void =>
      // A takeover is no accident: the backoff keeps growing, so that two clients with one id do not keep fighting.
      this.#core.linkLost(
        new MqError(error.code, `${error.message}${hint}`, { cause: error.cause }),
        takenOver,
      );
    if (lived >= STABLE_LINK_MILLIS || takenOver || link.disconnectedWithReason) {
      report('');
      return;
    }
    // Mosquitto 2.0 and MQTT 3.1.1 brokers just close the socket on a takeover, as they do when they stop: a young
    // link hints at a client id clash only while the broker still takes connections (one that restarts does not).
    // The backoff of BaseConnection keeps growing while links drop young, so a client id fight slows down.
    void brokerTakesConnections(link.url, this.settings.connectTimeoutMillis).then((up) =>
      report(
        up
          ? `; it dropped ${lived} ms after connecting while the broker still takes connections: does another client use clientId '${this.settings.clientId}'?`
          : '',
      ),
    );
  }
}

/** Default ports of the MQTT URI schemes. */
const DEFAULT_PORTS: Readonly<Record<string, number>> = {
  'mqtt:': 1883,
  'mqtts:': 8883,
  'ws:': 80,
  'wss:': 443,
};

/** Resolves true when a TCP connection to the host and port of `url` opens within `timeoutMillis`. */
function brokerTakesConnections(url: string, timeoutMillis: number): Promise<boolean> {
  const parsed = new URL(url);
  const port = Number(parsed.port || DEFAULT_PORTS[parsed.protocol] || 1883);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const socket = connectTcp({ host, port });
    const done = (up: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(up);
    };
    const timer = setTimeout(() => done(false), Math.min(timeoutMillis, 1000));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
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
