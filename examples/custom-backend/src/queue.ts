import { randomUUID } from 'node:crypto';
import {
  BaseQueue,
  type Connection,
  ownConnection,
  type QueueOptions,
  type QueueSetup,
  resolveQueueOptions,
} from '@mq/core/spi';
import { RedisConnection, type RedisLink, redisLinkOf } from './connection.js';
import { errors } from './errors.js';
import { RedisQueueDriver, RedisQueueKeys } from './queue-driver.js';
import { REDIS_TRAITS } from './traits.js';

/** Options of a {@link RedisQueue}: the shared queue options. */
export interface RedisQueueOptions extends QueueOptions {
  /**
   * Reliable unicast receivers only: the most unacked messages held at once, from 1 to 65535.
   * @default 100
   */
  prefetch?: number;
}

/**
 * A queue on Redis: a list per unicast name (a reliable receiver keeps what it was handed in a processing list of
 * its own until acked), a PUB/SUB channel per broadcast name.
 */
export class RedisQueue extends BaseQueue {
  /** Validates the options and that `connection` is a {@link RedisConnection}; the queue starts `closed`. */
  constructor(options: RedisQueueOptions, connection: RedisConnection) {
    super(redisQueueSetup(options, connection));
  }
}

/** What a {@link RedisQueue} passes to `BaseQueue`: its validated options, {@link REDIS_TRAITS} and its driver. */
function redisQueueSetup(options: RedisQueueOptions, connection: Connection): QueueSetup {
  const resolved = resolveQueueOptions<RedisQueueOptions>(errors, options, {}).options;
  const conn = ownConnection(errors, connection, RedisConnection);
  const link = redisLinkOf(conn) as RedisLink;
  const keys = new RedisQueueKeys(conn.keyPrefix, resolved.name, randomUUID());
  return {
    errors,
    options: resolved,
    connection: conn,
    traits: REDIS_TRAITS,
    driver: (core) => new RedisQueueDriver(core, link, keys),
  };
}
