import { classifyLinkError, isLinkReset, LegacyBaseConnection, MqError, withDeadline } from '@mq/core/spi';
import * as amqp from 'amqplib';
import { destroySocket } from './amqplib-internals.js';
import { errors } from './errors.js';
import {
  type AmqpConnectionOptions,
  type AmqpConnectionSettings,
  type AmqpTlsOptions,
  resolveConnectionOptions,
} from './options.js';

/**
 * A connection to an AMQP 0-9-1 broker (RabbitMQ) over amqplib. It reconnects by itself after every loss
 * (broker restart, `close_connection`, network failure, missed heartbeats) until `close()`; each queue on it
 * gets its own channel.
 */
export class AmqpConnection extends LegacyBaseConnection {
  /** The validated settings, safe to log: the URI's password and the TLS material are not in here. */
  readonly settings: Readonly<AmqpConnectionSettings>;
  readonly #uris: readonly string[];
  readonly #tls: AmqpTlsOptions | undefined;
  #model: amqp.ChannelModel | undefined;
  /** The address (password redacted) `#model` is connected to. */
  #modelAddress = '';

  /** Validates the options; the connection starts `closed`. Throws `INVALID_OPTIONS` naming the bad field. */
  constructor(options: AmqpConnectionOptions = {}) {
    const { settings, uris, tls } = resolveConnectionOptions(options);
    super({ ...settings, addresses: settings.uris });
    this.settings = Object.freeze(settings);
    this.#uris = uris;
    this.#tls = tls;
  }

  /** The `connection_name` client property, if one was given. */
  get connectionName(): string | undefined {
    return this.settings.connectionName;
  }

  /**
   * For {@link AmqpQueue}: the live amqplib connection, or `undefined` unless connected.
   * @internal
   */
  get channelModel(): amqp.ChannelModel | undefined {
    return this.#model;
  }

  /**
   * Drops the network link as a failure would: the socket is destroyed, with no AMQP close handshake (the broker
   * sees the TCP connection die and requeues what it had delivered). The connection reconnects by itself. For
   * tests.
   */
  simulateDrop(): void {
    const model = this.#model;
    // With an error: amqplib notices a socket that ends or fails, not one that merely closes.
    if (model) destroySocket(model, new Error('link dropped (simulateDrop)'));
  }

  protected override async openLink(): Promise<void> {
    const { connectTimeoutMillis, connectionName } = this.settings;
    const index = this.addressIndex;
    const uri = this.#uris[index] as string;
    const safeUri = this.settings.uris[index] as string;
    const tls = this.#tls;
    const socketOptions: amqp.SocketOptions = {
      noDelay: true,
      // amqplib drops this socket timeout once the handshake is done; the deadline below bounds the rest.
      timeout: connectTimeoutMillis,
      ...tls,
      ...(connectionName === undefined ? {} : { clientProperties: { connection_name: connectionName } }),
      ...(this.settings.authMechanism === 'EXTERNAL' ? { credentials: amqp.credentials.external() } : {}),
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
        late.close().catch(() => {});
      },
    ).catch((error: unknown) => {
      throw connectError(error, safeUri, new URL(uri));
    });
    let failure: Error | undefined;
    // amqplib emits 'error' (fatal close, socket error, missed heartbeats) and then 'close'; only 'close' acts.
    model.on('error', (error: Error) => {
      failure = error;
    });
    model.on('close', (error?: Error) => {
      if (this.#model !== model) return;
      this.#model = undefined;
      const cause = error ?? failure;
      this.notifyLinkLost(
        errors.error('BROKER', `connection to ${safeUri} lost: ${cause?.message ?? 'closed'}`, {
          cause,
        }),
      );
    });
    model.on('blocked', (reason: string) => {
      this.reportError(errors.error('BROKER', `the broker blocked publishing on this connection: ${reason}`));
    });
    this.#model = model;
    this.#modelAddress = safeUri;
  }

  protected override async closeLink(): Promise<void> {
    const model = this.#model;
    this.#model = undefined;
    if (!model) return;
    const { connectTimeoutMillis } = this.settings;
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
