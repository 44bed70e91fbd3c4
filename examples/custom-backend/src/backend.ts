import { type Backend, defineBackend, SPI_VERSION } from '@mq/core/spi';
import { RedisConnection, type RedisConnectionOptions } from './connection.js';
import { RedisQueue, type RedisQueueOptions } from './queue.js';
import { REDIS_TRAITS } from './traits.js';

/** The `@acme/mq-redis` backend descriptor: serves `redis:` URIs. */
export const redisBackend: Backend = defineBackend({
  spiVersion: SPI_VERSION,
  name: '@acme/mq-redis',
  schemes: ['redis'],
  capabilities: REDIS_TRAITS,
  createConnection: (options) => new RedisConnection(options as RedisConnectionOptions),
  // The queue's constructor checks the connection is one of this backend's, and refuses what the traits rule out.
  createQueue: (options, connection) =>
    new RedisQueue(options as RedisQueueOptions, connection as RedisConnection),
});
