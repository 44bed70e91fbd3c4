import {
  BaseConnection,
  type ConnectionOptions,
  type ExtraKeys,
  type LinkCore,
  type LinkDriver,
  resolveSharedConnectionOptions,
  withDeadline,
} from '@mq/core/spi';
import { Redis, type RedisOptions } from 'ioredis';
import { errors } from './errors.js';

/** This backend's own connection option (the compiler keeps the list in step with the interface). */
const REDIS_CONNECTION_KEYS = { keyPrefix: true } as const satisfies ExtraKeys<
  RedisConnectionOptions,
  ConnectionOptions
>;

/** Options of a {@link RedisConnection}. */
export interface RedisConnectionOptions extends ConnectionOptions {
  /**
   * The Redis server, `redis://[user:password@]host[:port][/db]`.
   * @default 'redis://127.0.0.1:6379'
   */
  uri?: string;
  /**
   * Prefix of every Redis key and channel this backend uses; give each application (or test run) its own.
   * @default 'mq:'
   */
  keyPrefix?: string;
}

/**
 * A connection to one Redis server. It holds one command link (sends, acks); each receiver opens its own
 * link, because a blocked `BLMOVE` or a `SUBSCRIBE` takes a Redis connection for itself.
 */
export class RedisConnection extends BaseConnection {
  /** Prefix of every key and channel, see {@link RedisConnectionOptions.keyPrefix}. */
  readonly keyPrefix: string;

  /** Validates the options; the connection starts `closed`. */
  constructor(options: RedisConnectionOptions = {}) {
    // The shared options (uri, connectTimeoutMillis, reconnectMillis, reconnectMaxMillis) are read by core.
    const { shared, read } = resolveSharedConnectionOptions<RedisConnectionOptions>(errors, options, {
      schemes: ['redis'],
      defaultUri: 'redis://127.0.0.1:6379',
      extraKeys: REDIS_CONNECTION_KEYS,
    });
    const keyPrefix = read.string('keyPrefix', 'mq:', {
      regex: /^[^\s*?[\]]{1,64}$/,
      rule: 'be 1 to 64 characters without spaces or glob characters (*?[])',
    });
    let link: RedisLink | undefined;
    super({
      errors,
      reconnectMillis: shared.reconnectMillis,
      reconnectMaxMillis: shared.reconnectMaxMillis,
      link: (core) => {
        link = new RedisLink(core, shared.url.toString(), shared.connectTimeoutMillis);
        return link;
      },
    });
    this.keyPrefix = keyPrefix;
    LINKS.set(this, link as RedisLink);
  }

  /** The Redis `CLIENT ID` of the command link while connected; for diagnostics and fault injection. */
  get clientId(): number | undefined {
    return LINKS.get(this)?.clientId;
  }
}

/** The link of each connection of this backend: its queues reach the command link through {@link redisLinkOf}. */
const LINKS = new WeakMap<object, RedisLink>();

/** The link of `connection`, if it is a connection of this backend. */
export function redisLinkOf(connection: object): RedisLink | undefined {
  return LINKS.get(connection);
}

/** The link driver of a `RedisConnection`: its command link, and new links for its receivers. */
export class RedisLink implements LinkDriver {
  readonly #core: LinkCore;
  readonly #uri: string;
  readonly #timeoutMillis: number;
  #client: Redis | undefined;
  #clientId: number | undefined;

  constructor(core: LinkCore, uri: string, timeoutMillis: number) {
    this.#core = core;
    this.#uri = uri;
    this.#timeoutMillis = timeoutMillis;
  }

  /** The Redis `CLIENT ID` of the command link while connected. */
  get clientId(): number | undefined {
    return this.#clientId;
  }

  /** For this backend's queues: the command link, or `CONNECTION_LOST` when it is down. */
  commandClient(what: string): Redis {
    if (this.#client?.status !== 'ready') {
      throw errors.error('CONNECTION_LOST', `not connected to Redis: ${what}`);
    }
    return this.#client;
  }

  /** For this backend's queues: a new link to the same server, connected, that never reconnects by itself. */
  async openClient(): Promise<Redis> {
    const client = new Redis(this.#uri, this.#clientOptions());
    // ioredis logs unhandled 'error' events; failures reach us through rejected commands and 'end'.
    client.on('error', () => {});
    try {
      await bound(client.connect(), this.#timeoutMillis, () => client.disconnect());
    } catch (error) {
      client.disconnect();
      throw error;
    }
    return client;
  }

  async open(): Promise<void> {
    const client = await this.openClient();
    let lastError: unknown;
    client.on('error', (error: unknown) => {
      lastError = error;
    });
    client.once('end', () => {
      if (this.#client !== client) return;
      this.#client = undefined;
      this.#clientId = undefined;
      this.#core.linkLost(lastError ?? new Error('Redis closed the connection'));
    });
    this.#client = client;
    this.#clientId = Number(await client.client('ID'));
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#clientId = undefined;
    if (!client) return;
    if (client.status !== 'ready') {
      client.disconnect();
      return;
    }
    // A Redis that went silent never answers QUIT: give up after the connect timeout and drop the socket.
    await bound(client.quit(), this.#timeoutMillis, () => {}, 'QUIT').catch(() => {});
    client.disconnect();
  }

  /**
   * Settles like `command`, or rejects with `TIMEOUT` after the connect timeout: Redis went silent, so the
   * command link is dropped too, and the commands after this one fail at once instead of waiting in turn.
   */
  bounded<T>(command: Promise<T>, what: string): Promise<T> {
    // The link the command went out on: by the deadline the connection may have a new, healthy one.
    const client = this.#client;
    return bound(command, this.#timeoutMillis, () => client?.disconnect(), what);
  }

  #clientOptions(): RedisOptions {
    return {
      lazyConnect: true,
      // Off: openClient() bounds the connect itself. ioredis's own connect timer outlives a refused connection
      // (it keeps the process alive for up to connectTimeoutMillis after close()).
      connectTimeout: 0,
      // ioredis ends a link with a timer that destroys the socket if it is still open after this long, and that it
      // clears on the socket's 'close': a socket that had already closed (a refused connect) keeps the timer, and
      // the process, alive for the whole of it (2 s by default).
      disconnectTimeout: 200,
      // Core owns reconnection; a client that reconnects or queues commands on its own would hide losses from it.
      retryStrategy: () => null,
      reconnectOnError: () => false,
      enableOfflineQueue: false,
      autoResubscribe: false,
      autoResendUnfulfilledCommands: false,
    };
  }
}

/** Rejects with `TIMEOUT` (after calling `onTimeout`) when `promise` takes longer than `millis`. */
function bound<T>(
  promise: Promise<T>,
  millis: number,
  onTimeout: () => void,
  what = 'connecting',
): Promise<T> {
  return withDeadline(promise, millis, () => {
    onTimeout();
    return errors.error('TIMEOUT', `${what} took longer than ${millis} ms`);
  });
}
