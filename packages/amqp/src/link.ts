import {
  classifyLinkError,
  isLinkReset,
  type LinkCore,
  type LinkDriver,
  MqError,
  type TlsConnectOptions,
  withDeadline,
} from '@mq/core/spi';
import * as amqp from 'amqplib';
import { coalesceWrites, destroySocket } from './amqplib-internals.js';
import type { FlowEvents } from './connection.js';
import { errors } from './errors.js';
import type { AmqpConnectionSettings } from './options.js';

/**
 * The link of an `AmqpConnection`: one amqplib connection (a channel model) at a time, to the address core says.
 * Its queues reach it through {@link amqpLinkOf}, never through the connection class apps hold.
 */
export class AmqpLink implements LinkDriver {
  readonly #core: LinkCore;
  readonly #settings: Readonly<AmqpConnectionSettings>;
  /** The URIs given to amqplib, passwords included: never shown. */
  readonly #uris: readonly string[];
  /** A secure context, `servername` and `rejectUnauthorized`: never a key or passphrase. */
  readonly #tls: TlsConnectOptions | undefined;
  /** Where RabbitMQ's `blocked` and `unblocked` go. */
  readonly #flow: FlowEvents | undefined;
  #model: amqp.ChannelModel | undefined;
  /** The address (password redacted) `#model` is connected to. */
  #modelAddress = '';

  constructor(
    core: LinkCore,
    settings: Readonly<AmqpConnectionSettings>,
    uris: readonly string[],
    tls: TlsConnectOptions | undefined,
    flow?: FlowEvents,
  ) {
    this.#core = core;
    this.#settings = settings;
    this.#uris = uris;
    this.#tls = tls;
    this.#flow = flow;
  }

  /** The live amqplib connection; `undefined` unless connected. */
  get channelModel(): amqp.ChannelModel | undefined {
    return this.#model;
  }

  /** Milliseconds every step of opening and closing may take (the connection's `connectTimeoutMillis`). */
  get timeoutMillis(): number {
    return this.#settings.connectTimeoutMillis;
  }

  /** Opens the link to the address core says (see `LinkCore.addressIndex`). */
  open(): Promise<void> {
    return this.dial(this.#core.addressIndex);
  }

  /** Opens the link to address `index` of the connection's list. */
  async dial(index: number): Promise<void> {
    const { connectTimeoutMillis, connectionName } = this.#settings;
    const uri = this.#uris[index] as string;
    const safeUri = this.#settings.uris[index] as string;
    const socketOptions: amqp.SocketOptions = {
      noDelay: true,
      // amqplib drops this socket timeout once the handshake is done; the deadline below bounds the rest.
      timeout: connectTimeoutMillis,
      ...this.#tls,
      ...(connectionName === undefined ? {} : { clientProperties: { connection_name: connectionName } }),
      ...(this.#settings.authMechanism === 'EXTERNAL' ? { credentials: amqp.credentials.external() } : {}),
    };
    const model = await withDeadline(
      amqp.connect(uri, socketOptions),
      connectTimeoutMillis,
      () =>
        errors.error(
          'UNREACHABLE',
          `connecting to ${safeUri} took over ${connectTimeoutMillis} ms (connectTimeoutMillis)`,
        ),
      (late) => {
        late.on('error', () => {});
        // Nobody will use it: closed if the broker answers within the connect timeout, else its socket destroyed
        // (a node that went silent after a slow handshake never answers, and would keep it open for good).
        withDeadline(late.close(), connectTimeoutMillis, () => new Error('close timed out')).catch(() =>
          destroySocket(late),
        );
      },
    ).catch((error: unknown) => {
      throw connectError(error, safeUri, new URL(uri));
    });
    // Frames written in one tick (a burst of publishes, a round of acks) leave in one syscall.
    coalesceWrites(model);
    let failure: Error | undefined;
    // amqplib emits 'error' (fatal close, socket error, missed heartbeats) and then 'close'; only 'close' acts.
    model.on('error', (error: Error) => {
      failure = error;
    });
    model.on('close', (error?: Error) => {
      if (this.#model !== model) return;
      this.#model = undefined;
      const cause = error ?? failure;
      this.#core.linkLost(
        errors.error('BROKER', `connection to ${safeUri} lost: ${cause?.message ?? 'closed'}`, { cause }),
      );
    });
    model.on('blocked', (reason: string) => {
      if (this.#model !== model) return;
      this.#core.reportError(
        errors.error('BROKER', `the broker blocked publishing on this connection: ${reason}`),
      );
      this.#flow?.emit('blocked', reason);
    });
    model.on('unblocked', () => {
      if (this.#model === model) this.#flow?.emit('unblocked');
    });
    this.#model = model;
    this.#modelAddress = safeUri;
  }

  async close(): Promise<void> {
    const model = this.#model;
    this.#model = undefined;
    if (!model) return;
    const { connectTimeoutMillis } = this.#settings;
    const safeUri = this.#modelAddress;
    try {
      await withDeadline(model.close(), connectTimeoutMillis, () =>
        errors.error('TIMEOUT', `closing the connection to ${safeUri} timed out`),
      );
    } catch {
      // Already closed by the broker, or the broker never answered: drop the socket so nothing lingers.
      destroySocket(model);
    }
  }

  /**
   * Drops the network link as a failure would: the socket is destroyed, with no AMQP close handshake (the
   * broker sees the TCP connection die and requeues what it had delivered).
   */
  drop(): void {
    const model = this.#model;
    // With an error: amqplib notices a socket that ends or fails, not one that merely closes.
    if (model) destroySocket(model, new Error('link dropped (simulateDrop)'));
  }
}

/** The link of each connection of this backend. */
const LINKS = new WeakMap<object, AmqpLink>();

/** Records `link` as the link of `connection` (its constructor does). */
export function registerLink(connection: object, link: AmqpLink): void {
  LINKS.set(connection, link);
}

/** The link of `connection`, if it is a connection of this backend. */
export function amqpLinkOf(connection: object): AmqpLink | undefined {
  return LINKS.get(connection);
}

/**
 * A failed connection attempt as the error a user can act on: `UNREACHABLE`, `TLS_FAILED`, `AUTH_FAILED` (403
 * ACCESS-REFUSED), `VHOST_REFUSED` (the broker closed the link when asked to open the vhost: amqplib keeps only
 * "Expected ConnectionOpenOk"), `PROTOCOL_MISMATCH` (a reset during the AMQP handshake, as an MQTT port gives
 * one), else `BROKER`; the original is its `cause`.
 */
function connectError(error: unknown, safeUri: string, url: URL): MqError {
  if (MqError.isInstance(error)) return error;
  const detail = error instanceof Error ? error.message : String(error);
  const fail = (code: ConstructorParameters<typeof MqError>[0], why: string): MqError =>
    errors.error(code, `connecting to ${safeUri} failed: ${why}`, { cause: error });
  const tls = url.protocol === 'amqps:';
  const network = classifyLinkError(error, tls);
  if (network === 'TLS_FAILED') {
    return fail(
      'TLS_FAILED',
      `TLS failed (${detail.split('\n')[0]}); check tls.ca, the host name, and that the port is a TLS one`,
    );
  }
  if (network) return fail(network, detail);
  if (/\b403 \(ACCESS-REFUSED\)/.test(detail)) {
    return fail(
      'AUTH_FAILED',
      `the broker refused user '${decodeURIComponent(url.username || 'guest')}' (${detail})`,
    );
  }
  if (/Expected ConnectionOpenOk/.test(detail)) {
    const vhost = url.pathname.length > 1 ? decodeURIComponent(url.pathname.slice(1)) : '/';
    return fail(
      'VHOST_REFUSED',
      `the broker refused vhost '${vhost}': it does not exist, or user '${decodeURIComponent(url.username || 'guest')}' may not use it (${detail})`,
    );
  }
  if (isLinkReset(error) || /Socket closed abruptly during opening handshake/.test(detail)) {
    return fail(
      'PROTOCOL_MISMATCH',
      `the server reset the link during the AMQP handshake (${detail}): is this an AMQP port? An MQTT broker (1883) does this`,
    );
  }
  return fail('BROKER', detail);
}
