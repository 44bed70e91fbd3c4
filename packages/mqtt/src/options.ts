import { randomBytes } from 'node:crypto';
import {
  type ConnectionOptions,
  describeValue,
  type ExtraKeys,
  readTlsOptions,
  redactUri,
  resolveSharedConnectionOptions,
  type TlsConnectOptions,
  type TlsOptions,
} from '@mq/core/spi';
import { errors } from './errors.js';

/** URI schemes the MQTT backend serves. */
export const MQTT_SCHEMES = ['mqtt', 'mqtts', 'ws', 'wss'] as const;

const MAX_UINT32 = 4_294_967_295;
const CLIENT_ID_PATTERN = /^[\x21-\x7e]{1,256}$/;

/** TLS settings for `mqtts:` and `wss:` URIs, passed to Node's `tls.connect` (the same for every backend). */
export type MqttTlsOptions = TlsOptions;

/** Options of an {@link MqttConnection}. */
export interface MqttConnectionOptions extends ConnectionOptions {
  /**
   * The broker: `mqtt://user:pass@host:port`, `mqtts://...`, `ws://host:port/path?query` or `wss://...`. User and
   * password are percent-decoded. A path or query is allowed only for `ws:` and `wss:` (the HTTP request), and a
   * `#fragment` never, since each would be ignored silently; so is a `clientId` query parameter, which mqtt.js
   * would use over the {@link MqttConnectionOptions.clientId} option. For several brokers (a cluster, or
   * brokers behind one name), an array of such URIs (credentials may differ): the connection tries them in turn,
   * moving on to the next after each failed attempt or lost link.
   * @default 'mqtt://localhost'
   */
  uri?: string | readonly string[];
  /**
   * Milliseconds one connection attempt (TCP, TLS and CONNACK) may take.
   * @default 3000
   */
  connectTimeoutMillis?: number;
  /**
   * Milliseconds before the first reconnection attempt after a loss; each failed attempt, and each link that
   * drops within 10 s of connecting (for example when another client takes the same `clientId` over), doubles
   * the wait (with jitter) up to `reconnectMaxMillis`.
   * @default 1000
   */
  reconnectMillis?: number;
  /**
   * The MQTT client identifier: 1 to 256 visible ASCII characters. Required for `cleanSession: false`.
   * @default a random `mq-<hex>` per connection object
   */
  clientId?: string;
  /**
   * Start a fresh session on every connect. `false` keeps subscriptions and unacked or missed QoS 1 messages on
   * the broker while this client is away (needs a fixed `clientId`).
   * @default true
   */
  cleanSession?: boolean;
  /**
   * MQTT protocol version: 4 (MQTT 3.1.1) or 5.
   * @default 5
   */
  protocolVersion?: 4 | 5;
  /**
   * MQTT 5 only: seconds the broker keeps the session after the link closes.
   * @default 0 with `cleanSession: true`, 4294967295 (never expires, as in MQTT 3.1.1) with `cleanSession: false`
   */
  sessionExpirySeconds?: number;
  /**
   * MQTT 5 only: the most unacked QoS 1 messages the broker sends this connection at once (over all its
   * receivers), from 1 to 65535. The broker may allow fewer: Mosquitto caps it at its `max_inflight_messages`
   * (default 20).
   * @default none sent, which means 65535 in MQTT 5 (the broker's own cap still applies)
   */
  receiveMaximum?: number;
  /**
   * Seconds between keep-alive pings; 0 disables them.
   * @default 60
   */
  keepaliveSeconds?: number;
  /** TLS settings; only allowed with an `mqtts:` or `wss:` URI. */
  tls?: MqttTlsOptions;
}

/**
 * Connection options after validation, defaults filled in. Safe to log: the password and the TLS material (key,
 * passphrase) are not in here at all (see {@link connectionSecrets}), so no `util.inspect`, not even with
 * `showHidden`, and no serialisation can show them.
 */
export interface ResolvedConnectionOptions {
  /** The (first) URI without credentials. */
  url: string;
  /** The (first) URI with the password redacted, for messages. */
  safeUri: string;
  /** Percent-decoded user of the (first) URI, if any. */
  username: string | undefined;
  /** Every broker address, in the order they are tried (the first is also `url`, `safeUri`, `username`). */
  addresses: readonly MqttAddress[];
  /** See {@link MqttConnectionOptions.connectTimeoutMillis}. */
  connectTimeoutMillis: number;
  /** See {@link MqttConnectionOptions.reconnectMillis}. */
  reconnectMillis: number;
  /** See {@link MqttConnectionOptions.reconnectMaxMillis}. */
  reconnectMaxMillis: number;
  /** The client id in use. */
  clientId: string;
  /** See {@link MqttConnectionOptions.cleanSession}. */
  cleanSession: boolean;
  /** See {@link MqttConnectionOptions.protocolVersion}. */
  protocolVersion: 4 | 5;
  /** MQTT 5 session expiry, seconds. */
  sessionExpirySeconds: number;
  /** MQTT 5 receive maximum, if set. */
  receiveMaximum: number | undefined;
  /** See {@link MqttConnectionOptions.keepaliveSeconds}. */
  keepaliveSeconds: number;
  /** True when TLS options were given. */
  tls: boolean;
}

/** One broker address of a connection, safe to log. */
export interface MqttAddress {
  /** The URI without credentials. */
  url: string;
  /** The URI with the password redacted, for messages. */
  safeUri: string;
  /** Percent-decoded user, if any. */
  username: string | undefined;
}

/** What a connection needs to connect and must never show: the passwords and the TLS options. */
export interface ConnectionSecrets {
  /** Percent-decoded password of the first address, if any. */
  password: string | undefined;
  /** Percent-decoded password of each address (`undefined` where none). */
  passwords: readonly (string | undefined)[];
  /**
   * What to hand mqtt.js for `tls`, if any: a secure context made once (the key already decrypted inside OpenSSL),
   * `servername` and `rejectUnauthorized`; never the key or its passphrase.
   */
  tls: TlsConnectOptions | undefined;
}

/** The secrets of each settings object, kept apart so that nothing holding the settings can print them. */
const SECRETS = new WeakMap<ResolvedConnectionOptions, ConnectionSecrets>();

/** The password and TLS options that were given with `settings` (as returned by `resolveConnectionOptions`). */
export function connectionSecrets(settings: ResolvedConnectionOptions): ConnectionSecrets {
  return SECRETS.get(settings) ?? { password: undefined, passwords: [], tls: undefined };
}

/** This backend's own connection options (the compiler keeps the list in step with the interface). */
const MQTT_CONNECTION_KEYS = {
  clientId: true,
  cleanSession: true,
  protocolVersion: true,
  sessionExpirySeconds: true,
  receiveMaximum: true,
  keepaliveSeconds: true,
  tls: true,
} as const satisfies ExtraKeys<MqttConnectionOptions, ConnectionOptions>;

/** Validates connection options (never mutating them) and fills in defaults; throws `INVALID_OPTIONS`. */
export function resolveConnectionOptions(input: unknown): ResolvedConnectionOptions {
  const { shared, read } = resolveSharedConnectionOptions<MqttConnectionOptions>(errors, input, {
    schemes: MQTT_SCHEMES,
    defaultUri: 'mqtt://localhost',
    extraKeys: MQTT_CONNECTION_KEYS,
  });
  const parsed = shared.urls.map(readAddress);
  const addresses = Object.freeze(parsed.map((one) => Object.freeze(one.address)));
  const first = addresses[0] as MqttAddress;
  const tls = readTlsOptions(errors, read.raw('tls'), shared.urls, ['mqtts', 'wss']);
  const clientId = read.string('clientId', undefined, {
    regex: CLIENT_ID_PATTERN,
    rule: 'be 1 to 256 visible ASCII characters',
  });
  const cleanSession = read.boolean('cleanSession', true);
  if (!cleanSession && clientId === undefined) {
    throw errors.invalid(
      'cleanSession false needs a fixed clientId: a random one would leave orphan sessions',
    );
  }
  // Only an absent field takes the default: `null` is a wrong value, not a missing one.
  const givenVersion = read.raw('protocolVersion');
  const protocolVersion = givenVersion === undefined ? 5 : givenVersion;
  if (protocolVersion !== 4 && protocolVersion !== 5) {
    throw errors.invalid(`protocolVersion must be 4 (MQTT 3.1.1) or 5, got ${describeValue(givenVersion)}`);
  }
  for (const field of ['sessionExpirySeconds', 'receiveMaximum'] as const) {
    if (protocolVersion === 4 && read.has(field)) {
      throw errors.invalid(`${field} needs protocolVersion 5, got protocolVersion 4`);
    }
  }
  const resolved: ResolvedConnectionOptions = {
    url: first.url,
    safeUri: first.safeUri,
    username: first.username,
    addresses,
    connectTimeoutMillis: shared.connectTimeoutMillis,
    reconnectMillis: shared.reconnectMillis,
    reconnectMaxMillis: shared.reconnectMaxMillis,
    clientId: clientId ?? `mq-${randomBytes(8).toString('hex')}`,
    cleanSession,
    protocolVersion,
    sessionExpirySeconds: read.integer(
      'sessionExpirySeconds',
      { min: 0, max: MAX_UINT32 },
      cleanSession ? 0 : MAX_UINT32,
    ),
    receiveMaximum: read.integer('receiveMaximum', { min: 1, max: 65535 }),
    keepaliveSeconds: read.integer('keepaliveSeconds', { min: 0, max: 65535 }, 60),
    tls: read.has('tls'),
  };
  const passwords = Object.freeze(parsed.map((one) => one.password));
  SECRETS.set(resolved, { password: passwords[0], passwords, tls: tls?.connect });
  return resolved;
}

/** One URI as an address (credentials out of the URL) and its password. */
function readAddress(parsed: URL): { address: MqttAddress; password: string | undefined } {
  checkUriParts(parsed);
  const username = decodeUserinfo(parsed, 'user', parsed.username);
  const password = decodeUserinfo(parsed, 'password', parsed.password);
  const bare = new URL(parsed.toString());
  bare.username = '';
  bare.password = '';
  const safe = new URL(bare.toString());
  if (username !== undefined) safe.username = parsed.username;
  if (password !== undefined) safe.password = '***';
  return { address: { url: bare.toString(), safeUri: safe.toString(), username }, password };
}

/**
 * Rejects URI parts mqtt.js would ignore or misuse: a path or query on `mqtt:`/`mqtts:` (only WebSockets send
 * them) and a `clientId` query parameter (mqtt.js lets it override the option). Core's `checkUri` refused a
 * fragment already.
 */
function checkUriParts(url: URL): void {
  const ws = url.protocol === 'ws:' || url.protocol === 'wss:';
  if (!ws && url.pathname !== '' && url.pathname !== '/') {
    throw errors.invalid(
      `uri path is only used with ws: and wss:, got ${describeValue(url.pathname)} on ${url.protocol}`,
    );
  }
  // The serialised form keeps an empty '?' or '#'; userinfo there is percent-encoded, so these are delimiters.
  const rest = url.href.slice(url.href.indexOf('//') + 2);
  if (!ws && rest.includes('?')) {
    throw errors.invalid(`uri query is only used with ws: and wss:, got one on ${url.protocol}`);
  }
  if (url.searchParams.has('clientId')) {
    throw errors.invalid('uri must not have a clientId query parameter: use the clientId option');
  }
}

/** Percent-decodes the URI's user or password; a malformed escape is an `INVALID_OPTIONS` that never echoes it. */
function decodeUserinfo(url: URL, part: 'user' | 'password', raw: string): string | undefined {
  if (raw === '') return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    throw errors.invalid(
      `uri ${part} has a malformed percent escape (write a literal % as %25), got ${describeValue(redactUri(url.toString()))}`,
    );
  }
}
