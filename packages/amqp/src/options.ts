import {
  type ConnectionOptions,
  checkUri,
  describeValue,
  invalid,
  type QueueOptions,
  type ResolvedQueueOptions,
  readBoolean,
  readInteger,
  readOptions,
  readString,
  redactUri,
  resolveQueueOptions,
} from '@mq/core';

/** The package name used in every error message of this backend. */
export const PKG = 'mq/amqp';

const MAX_MILLIS = 2_147_483_647;

/** TLS settings for `amqps:` URIs; each is passed to Node's `tls.connect`. */
export interface AmqpTlsOptions {
  /** Certificate authorities to trust instead of Node's default list (PEM). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Client certificate chain for mutual TLS (PEM). */
  cert?: string | Buffer | Array<string | Buffer>;
  /** Client private key for mutual TLS (PEM). */
  key?: string | Buffer | Array<string | Buffer>;
  /** Passphrase of `key`. */
  passphrase?: string;
  /**
   * Server name for SNI and certificate checks.
   * @default the URI's host name (unless it is an IP address)
   */
  servername?: string;
  /**
   * Reject a server certificate that does not verify against `ca`.
   * @default true
   */
  rejectUnauthorized?: boolean;
}

/** Options of an {@link AmqpConnection}. */
export interface AmqpConnectionOptions extends ConnectionOptions {
  /**
   * The broker: `amqp://user:pass@host:port/vhost` or `amqps://...` (TLS). The query parameters amqplib knows
   * are checked and passed through: `heartbeat` (seconds, 0 to 65535), `channelMax` (0 to 65535), `frameMax`
   * (bytes, 0 or 4096 to 4294967295), `maxFrameSize` (bytes, 0 or 4096 to 4294967295) and `locale`; any other
   * query parameter is rejected, as amqplib would silently ignore it.
   * @default 'amqp://localhost' (port 5672, or 5671 for amqps, vhost '/', user guest)
   */
  uri?: string;
  /**
   * Milliseconds one connection attempt (TCP, TLS and the AMQP handshake) may take before it counts as failed.
   * @default 3000
   */
  connectTimeoutMillis?: number;
  /**
   * Milliseconds between reconnection attempts.
   * @default 1000
   */
  reconnectMillis?: number;
  /**
   * Heartbeat interval in seconds asked of the broker; a link silent for about two intervals counts as lost.
   * `0` turns heartbeats off.
   * @default the broker's suggestion (60 on RabbitMQ), or the URI's `heartbeat` query parameter
   */
  heartbeatSeconds?: number;
  /** TLS settings; only allowed with an `amqps:` URI. */
  tls?: AmqpTlsOptions;
  /**
   * A name shown for this connection in the broker's management tools (client property `connection_name`).
   * @default none
   */
  connectionName?: string;
}

/** Options of an {@link AmqpQueue}. */
export interface AmqpQueueOptions extends QueueOptions {
  /**
   * Receivers only: the most unacked messages delivered at once (`basic.qos`), 1 to 65535.
   * @default 100
   */
  prefetch?: number;
  /**
   * Publish with delivery mode 2, so that messages in a (durable) unicast queue survive a broker restart.
   * @default false
   */
  persistent?: boolean;
}

/** The non-secret connection settings after validation, safe to log. */
export interface AmqpConnectionSettings {
  /** The broker URI with its password replaced by `***`. */
  uri: string;
  /** See {@link AmqpConnectionOptions.connectTimeoutMillis}. */
  connectTimeoutMillis: number;
  /** See {@link AmqpConnectionOptions.reconnectMillis}. */
  reconnectMillis: number;
  /** See {@link AmqpConnectionOptions.heartbeatSeconds}; `undefined` leaves it to the URI or the broker. */
  heartbeatSeconds: number | undefined;
  /** True when TLS options were given. */
  tls: boolean;
  /** See {@link AmqpConnectionOptions.connectionName}. */
  connectionName: string | undefined;
}

/** Connection options after validation: the public settings plus what must stay private. */
export interface ResolvedConnectionOptions {
  /** Safe to show. */
  settings: AmqpConnectionSettings;
  /** The URI given to amqplib (with the password and `heartbeat` applied). */
  uri: string;
  /** See {@link AmqpConnectionOptions.tls}. */
  tls: AmqpTlsOptions | undefined;
}

const CONNECTION_KEYS = [
  'uri',
  'connectTimeoutMillis',
  'reconnectMillis',
  'heartbeatSeconds',
  'tls',
  'connectionName',
] as const;

const TLS_KEYS = ['ca', 'cert', 'key', 'passphrase', 'servername', 'rejectUnauthorized'] as const;

/** Validates connection options and fills in defaults; throws `INVALID_OPTIONS` naming the field. */
export function resolveConnectionOptions(input: unknown): ResolvedConnectionOptions {
  const opts = readOptions(PKG, input, CONNECTION_KEYS, 'connection options');
  const url = checkUri(PKG, 'uri', opts.uri ?? 'amqp://localhost', ['amqp', 'amqps']);
  checkQuery(url.searchParams);
  const heartbeat = readInteger(PKG, opts, 'heartbeatSeconds', { min: 0, max: 65535 });
  if (heartbeat !== undefined) url.searchParams.set('heartbeat', String(heartbeat));
  const tls = readTls(opts.tls);
  if (tls && url.protocol !== 'amqps:') {
    throw invalid(PKG, `tls is only used with an amqps: uri, got ${url.protocol}`);
  }
  return {
    settings: {
      uri: redactUri(url.toString()),
      connectTimeoutMillis: readInteger(
        PKG,
        opts,
        'connectTimeoutMillis',
        { min: 1, max: MAX_MILLIS },
        3000,
      )!,
      reconnectMillis: readInteger(PKG, opts, 'reconnectMillis', { min: 1, max: MAX_MILLIS }, 1000)!,
      heartbeatSeconds: heartbeat,
      tls: tls !== undefined,
      connectionName: readString(PKG, opts, 'connectionName'),
    },
    uri: url.toString(),
    tls,
  };
}

/** amqplib's limits: `channelMax` and `heartbeat` are AMQP shorts; RabbitMQ refuses a `frameMax` below 4096. */
const UINT16 = { min: 0, max: 65535 } as const;
const FRAME_SIZE = { min: 4096, max: 4_294_967_295, zero: true } as const;
const QUERY_RULES: Readonly<Record<string, { min: number; max: number; zero?: boolean } | 'string'>> = {
  heartbeat: UINT16,
  channelMax: UINT16,
  frameMax: FRAME_SIZE,
  maxFrameSize: FRAME_SIZE,
  locale: 'string',
};

/**
 * Checks the URI's query parameters before amqplib sees them: it parses numbers with `parseInt` (so `abc`
 * becomes NaN and fails only at connect time, `-1` reaches the broker) and ignores unknown names.
 */
function checkQuery(params: URLSearchParams): void {
  const seen = new Set<string>();
  for (const [name, value] of params) {
    const rule = QUERY_RULES[name];
    if (rule === undefined) {
      throw invalid(
        PKG,
        `uri has an unknown query parameter ${describeValue(name)}; known: ${Object.keys(QUERY_RULES).join(', ')}`,
      );
    }
    if (seen.has(name)) throw invalid(PKG, `uri query parameter ${name} is given more than once`);
    seen.add(name);
    if (rule === 'string') continue;
    const n = /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN;
    const ok = (n >= rule.min && n <= rule.max) || (rule.zero === true && n === 0);
    if (!ok) {
      const range = rule.zero
        ? `0 or an integer from ${rule.min} to ${rule.max}`
        : `an integer from ${rule.min} to ${rule.max}`;
      throw invalid(PKG, `uri query parameter ${name} must be ${range}, got ${describeValue(value)}`);
    }
  }
}

/** Validates queue options (the shared ones plus `persistent`) and fills in defaults (`prefetch` 100). */
export function resolveAmqpQueueOptions(input: unknown): ResolvedQueueOptions & { persistent: boolean } {
  const shared = resolveQueueOptions(PKG, input, { required: false, min: 1, max: 65535 }, ['persistent']);
  const persistent = readBoolean(PKG, input as Record<string, unknown>, 'persistent', false);
  return { ...shared, persistent };
}

function readTls(value: unknown): AmqpTlsOptions | undefined {
  if (value === undefined) return undefined;
  const opts = readOptions(PKG, value, TLS_KEYS, 'tls');
  for (const field of ['ca', 'cert', 'key'] as const) {
    const item = opts[field];
    const items = Array.isArray(item) ? item : [item];
    if (item !== undefined && !items.every((v) => typeof v === 'string' || Buffer.isBuffer(v))) {
      throw invalid(
        PKG,
        `tls.${field} must be a PEM string, a Buffer or an array of them, got ${describeValue(item)}`,
      );
    }
  }
  const passphrase = readString(PKG, opts, 'passphrase');
  const servername = readString(PKG, opts, 'servername');
  const rejectUnauthorized = readBoolean(PKG, opts, 'rejectUnauthorized', true);
  const tls: AmqpTlsOptions = { rejectUnauthorized };
  if (opts.ca !== undefined) tls.ca = opts.ca as NonNullable<AmqpTlsOptions['ca']>;
  if (opts.cert !== undefined) tls.cert = opts.cert as NonNullable<AmqpTlsOptions['cert']>;
  if (opts.key !== undefined) tls.key = opts.key as NonNullable<AmqpTlsOptions['key']>;
  if (passphrase !== undefined) tls.passphrase = passphrase;
  if (servername !== undefined) tls.servername = servername;
  return tls;
}
