import {
  type ConnectionOptions,
  describeValue,
  type ExtraKeys,
  type QueueOptions,
  type ResolvedQueueOptions,
  readTlsOptions,
  redactUri,
  resolveQueueOptions,
  resolveSharedConnectionOptions,
  type TlsConnectOptions,
  type TlsOptions,
} from '@mq/core/spi';
import { errors } from './errors.js';
import { readDeclaration, readName } from './queue-arguments.js';

/** TLS settings for `amqps:` URIs, passed to Node's `tls.connect` (the same for every backend). */
export type AmqpTlsOptions = TlsOptions;

/** Options of an {@link AmqpConnection}. */
export interface AmqpConnectionOptions extends ConnectionOptions {
  /**
   * The broker: `amqp://user:pass@host:port/vhost` or `amqps://...` (TLS). The query parameters amqplib knows
   * are checked and passed through: `heartbeat` (seconds, 0 to 65535), `channelMax` (0 to 65535), `frameMax`
   * (bytes, 0 or 4096 to 4294967295), `maxFrameSize` (bytes, 0 or 4096 to 4294967295) and `locale`; any other
   * query parameter is rejected, as amqplib would silently ignore it. For a cluster, an array of such URIs, one
   * per node (credentials and vhost may differ): the connection tries them in turn, moving on to the next after
   * each failed attempt or lost link.
   * @default 'amqp://localhost' (port 5672, or 5671 for amqps, vhost '/', user guest)
   */
  uri?: string | readonly string[];
  /**
   * Milliseconds one connection attempt (TCP, TLS and the AMQP handshake) may take before it counts as failed.
   * @default 3000
   */
  connectTimeoutMillis?: number;
  /**
   * Milliseconds before the first reconnection attempt after a loss; each failed attempt doubles the wait (with
   * jitter) up to `reconnectMaxMillis`. The wait starts over once a link has stayed up for 10 s.
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
  /**
   * How to log in: `'PLAIN'` with the URI's user and password, or `'EXTERNAL'` with the TLS client certificate
   * (RabbitMQ's `rabbitmq_auth_mechanism_ssl` plugin; the user is the certificate's common name). `'EXTERNAL'`
   * needs `amqps:` URIs and `tls.cert` and `tls.key`.
   * @default 'PLAIN'
   */
  authMechanism?: 'PLAIN' | 'EXTERNAL';
}

/** Options of an {@link AmqpQueue}; `T` is the body type. */
export interface AmqpQueueOptions<T = Buffer> extends QueueOptions<T> {
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
  /**
   * Unicast only: the RabbitMQ queue type to declare. `'quorum'` (replicated over the cluster, RabbitMQ 3.8+)
   * declares `x-queue-type: quorum`; senders and receivers of one name must agree, as must general-mq apps on the
   * same broker (which declare classic queues). Quorum queues always keep messages on disk.
   * @default 'classic'
   */
  queueType?: 'classic' | 'quorum';
  /**
   * Quorum queues only: `x-delivery-limit`, the number of deliveries after which RabbitMQ drops (or
   * dead-letters) a message that keeps coming back, from 1 to 2147483647.
   * @default none (RabbitMQ 3.x: no limit; RabbitMQ 4: 20)
   */
  deliveryLimit?: number;
  /**
   * `false` attaches to a queue (broadcast: an exchange) that someone else declared, as it is: mq never declares
   * it, only checks that it exists (a passive declare). A missing one is one `NOT_FOUND` error naming it, then
   * quiet retries with the queue's backoff until it appears. `name` may then be any name RabbitMQ takes (upper
   * case, `:`, `/`; no whitespace or control characters, at most 255 bytes); `queueType`, `deliveryLimit` and the
   * argument options are refused, as mq could not check them. A broadcast receiver still declares its own queue.
   * With `routing: 'topic'`, it is the space's topic exchange that is only checked; a group's queue is mq's own.
   * @default true (mq declares the queue, with `name` following `QUEUE_NAME_PATTERN`)
   */
  declare?: boolean;
  /**
   * Unicast only: `x-max-length`, the most ready messages the queue holds (an integer from 0); see `overflow`.
   * @default none (no limit)
   */
  maxLength?: number;
  /**
   * Unicast only: `x-max-length-bytes`, the most bytes of ready message bodies the queue holds (an integer from 0).
   * @default none (no limit)
   */
  maxLengthBytes?: number;
  /**
   * Unicast only: `x-overflow`, what a full queue does: `'drop-head'` drops (or dead-letters) its oldest message,
   * `'reject-publish'` refuses new ones (a reliable send rejects with `REJECTED`), `'reject-publish-dlx'` also
   * dead-letters them (classic queues).
   * @default none (RabbitMQ: 'drop-head')
   */
  overflow?: 'drop-head' | 'reject-publish' | 'reject-publish-dlx';
  /**
   * Unicast only: `x-message-ttl`, milliseconds a message may wait in the queue before RabbitMQ drops (or
   * dead-letters) it; an integer from 0.
   * @default none (messages wait for ever)
   */
  messageTtlMillis?: number;
  /**
   * Unicast only: `x-dead-letter-exchange`, where RabbitMQ itself dead-letters messages (expired, dropped by
   * `overflow`, over `deliveryLimit`); `''` is the default exchange. Not mq's `deadLetter`, which is where a
   * receiver moves a message after `maxDeliveries`.
   * @default none
   */
  deadLetterExchange?: string;
  /**
   * Unicast only, with `deadLetterExchange`: `x-dead-letter-routing-key`, the routing key of dead-lettered messages.
   * @default none (their own routing key)
   */
  deadLetterRoutingKey?: string;
  /**
   * Unicast only: other `x-` arguments of the queue (strings, booleans, finite numbers; at most 64), e.g.
   * `{ 'x-single-active-consumer': true }`. An argument that has an option above is refused here.
   * @default none
   */
  queueArguments?: Readonly<Record<string, string | number | boolean>>;
}

/** The non-secret connection settings after validation, safe to log. */
export interface AmqpConnectionSettings {
  /** The (first) broker URI with its password replaced by `***`. */
  uri: string;
  /** Every broker URI, passwords replaced by `***`, in the order they are tried. */
  uris: readonly string[];
  /** See {@link AmqpConnectionOptions.connectTimeoutMillis}. */
  connectTimeoutMillis: number;
  /** See {@link AmqpConnectionOptions.reconnectMillis}. */
  reconnectMillis: number;
  /** See {@link AmqpConnectionOptions.reconnectMaxMillis}. */
  reconnectMaxMillis: number;
  /** See {@link AmqpConnectionOptions.heartbeatSeconds}; `undefined` leaves it to the URI or the broker. */
  heartbeatSeconds: number | undefined;
  /** True when TLS options were given. */
  tls: boolean;
  /** See {@link AmqpConnectionOptions.connectionName}. */
  connectionName: string | undefined;
  /** See {@link AmqpConnectionOptions.authMechanism}. */
  authMechanism: 'PLAIN' | 'EXTERNAL';
}

/** Connection options after validation: the public settings plus what must stay private. */
export interface ResolvedConnectionOptions {
  /** Safe to show. */
  settings: AmqpConnectionSettings;
  /** The URIs given to amqplib (with the password and `heartbeat` applied), one per address. */
  uris: string[];
  /**
   * What amqplib hands to `tls.connect` for {@link AmqpConnectionOptions.tls}: a secure context made once, never
   * the key or its passphrase (Node keeps a copy of these options on the socket).
   */
  tls: TlsConnectOptions | undefined;
}

/** This backend's own connection options (the compiler keeps the list in step with the interface). */
const AMQP_CONNECTION_KEYS = {
  heartbeatSeconds: true,
  tls: true,
  connectionName: true,
  authMechanism: true,
} as const satisfies ExtraKeys<AmqpConnectionOptions, ConnectionOptions>;

/** Validates connection options (own fields only) and fills in defaults; throws `INVALID_OPTIONS` naming the field. */
export function resolveConnectionOptions(input: unknown): ResolvedConnectionOptions {
  const { shared, read } = resolveSharedConnectionOptions<AmqpConnectionOptions>(errors, input, {
    schemes: ['amqp', 'amqps'],
    defaultUri: 'amqp://localhost',
    extraKeys: AMQP_CONNECTION_KEYS,
  });
  const urls = shared.urls.map((url) => new URL(url));
  for (const [i, url] of urls.entries()) checkQuery(url.searchParams, urls.length > 1 ? `uri[${i}]` : 'uri');
  const heartbeat = read.integer('heartbeatSeconds', { min: 0, max: 65535 });
  if (heartbeat !== undefined) for (const url of urls) url.searchParams.set('heartbeat', String(heartbeat));
  const tls = readTlsOptions(errors, read.raw('tls'), urls, ['amqps']);
  const safe = Object.freeze(urls.map((url) => redactUri(url.toString())));
  // Only an absent field takes the default: `null` is a wrong value, not a missing one.
  const givenMechanism = read.raw('authMechanism');
  const authMechanism = givenMechanism === undefined ? 'PLAIN' : givenMechanism;
  if (authMechanism !== 'PLAIN' && authMechanism !== 'EXTERNAL') {
    throw errors.invalid(`authMechanism must be 'PLAIN' or 'EXTERNAL', got ${describeValue(authMechanism)}`);
  }
  if (authMechanism === 'EXTERNAL' && tls?.clientCertificate !== true) {
    throw errors.invalid(
      "authMechanism 'EXTERNAL' logs in with the TLS client certificate: give tls.cert and tls.key",
    );
  }
  return {
    settings: {
      uri: safe[0] as string,
      uris: safe,
      connectTimeoutMillis: shared.connectTimeoutMillis,
      reconnectMillis: shared.reconnectMillis,
      reconnectMaxMillis: shared.reconnectMaxMillis,
      heartbeatSeconds: heartbeat,
      tls: read.has('tls'),
      connectionName: read.string('connectionName'),
      authMechanism,
    },
    uris: urls.map((url) => url.toString()),
    tls: tls?.connect,
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
function checkQuery(params: URLSearchParams, field: string): void {
  const seen = new Set<string>();
  for (const [name, value] of params) {
    const rule = QUERY_RULES[name];
    if (rule === undefined) {
      throw errors.invalid(
        `${field} has an unknown query parameter ${describeValue(name)}; known: ${Object.keys(QUERY_RULES).join(', ')}`,
      );
    }
    if (seen.has(name)) throw errors.invalid(`${field} query parameter ${name} is given more than once`);
    seen.add(name);
    if (rule === 'string') continue;
    const n = /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN;
    const ok = (n >= rule.min && n <= rule.max) || (rule.zero === true && n === 0);
    if (!ok) {
      const range = rule.zero
        ? `0 or an integer from ${rule.min} to ${rule.max}`
        : `an integer from ${rule.min} to ${rule.max}`;
      throw errors.invalid(`${field} query parameter ${name} must be ${range}, got ${describeValue(value)}`);
    }
  }
}

/** This backend's own queue options, with what they resolve to. */
interface AmqpQueueExtras {
  /** See {@link AmqpQueueOptions.persistent}. */
  readonly persistent: boolean;
  /** See {@link AmqpQueueOptions.queueType}. */
  readonly queueType: 'classic' | 'quorum';
  /** See {@link AmqpQueueOptions.deliveryLimit}. */
  readonly deliveryLimit: number | undefined;
  /** See {@link AmqpQueueOptions.declare}. */
  readonly declare: boolean;
  /** The `x-` arguments of `maxLength` ... `queueArguments` (not `x-queue-type`, `x-delivery-limit`). */
  readonly arguments: Readonly<Record<string, unknown>>;
}

/** AMQP queue options after validation: a sender's or a receiver's, with the AMQP ones. */
export type ResolvedAmqpQueueOptions = ResolvedQueueOptions & AmqpQueueExtras;

// #region spi
/** This backend's own queue options (the compiler keeps the list in step with the interface). */
const AMQP_QUEUE_KEYS = {
  persistent: true,
  queueType: true,
  deliveryLimit: true,
  declare: true,
  maxLength: true,
  maxLengthBytes: true,
  overflow: true,
  messageTtlMillis: true,
  deadLetterExchange: true,
  deadLetterRoutingKey: true,
  queueArguments: true,
} as const satisfies ExtraKeys<AmqpQueueOptions, QueueOptions>;

/**
 * Validates queue options (the shared ones plus `persistent`, `queueType`, `deliveryLimit`, `declare` and the
 * queue arguments; own fields only) and fills in defaults (`queueType` classic). With `declare: false`, `name`
 * follows the broker's rule rather than mq's (`readName`).
 */
export function resolveAmqpQueueOptions(input: unknown): ResolvedAmqpQueueOptions {
  const { options: shared, read } = resolveQueueOptions<AmqpQueueOptions>(
    errors,
    input,
    AMQP_QUEUE_KEYS,
    readName,
  );
  const persistent = read.boolean('persistent', false);
  const givenType = read.raw('queueType');
  const queueType = givenType === undefined ? 'classic' : givenType;
  if (queueType !== 'classic' && queueType !== 'quorum') {
    throw errors.invalid(`queueType must be 'classic' or 'quorum', got ${describeValue(queueType)}`);
  }
  if (queueType === 'quorum' && shared.broadcast) {
    throw errors.invalid(
      "queueType 'quorum' is for unicast queues: a broadcast receiver's queue is exclusive and temporary",
    );
  }
  const deliveryLimit = read.integer('deliveryLimit', { min: 1, max: 2_147_483_647 });
  if (deliveryLimit !== undefined && queueType !== 'quorum') {
    throw errors.invalid(`deliveryLimit needs queueType 'quorum', got queueType ${describeValue(queueType)}`);
  }
  const declaration = readDeclaration(read, shared.broadcast);
  return Object.freeze({ ...shared, persistent, queueType, deliveryLimit, ...declaration });
}
// #endregion spi
