import { type Backend, defineBackend, ownConnection, SPI_VERSION } from '@mq/core/spi';
import { RedisConnection, type RedisConnectionOptions } from './connection.js';
import { errors } from './errors.js';
import { RedisQueue, type RedisQueueOptions } from './queue.js';

/** The `@acme/mq-redis` backend descriptor: serves `redis:` URIs. */
export const redisBackend: Backend = defineBackend({
  spiVersion: SPI_VERSION,
  name: '@acme/mq-redis',
  schemes: ['redis'],
  capabilities: {
    // PUB/SUB channels live apart from list keys (`b:` versus `q:`), so same-name queues never meet.
    broadcast: true,
    broadcastIsolated: true,
    // Unicast lists keep messages until a receiver comes; a reliable receiver's unacked messages sit in its
    // processing list and go back to the queue on nack, on close and when it reopens after a lost link.
    retainUnicast: true,
    nackRequeue: true,
    redeliverUnacked: true,
    // A reliable receiver stops taking messages while `prefetch` of them await an ack.
    prefetch: true,
    // Each receiver blocks on its own Redis client, so several of one name can share a connection.
    sameConnectionReceivers: true,
    // No metadata: a message cannot say how often it was delivered, so maxDeliveries is refused; a nack puts it
    // at the back of the list, so core's retry (hold for retryDelayMillis, then nack) lets the others go first.
    countsDeliveries: false,
    deadLetter: false,
  },
  createConnection: (options) => new RedisConnection(options as RedisConnectionOptions),
  createQueue: (options, connection) =>
    new RedisQueue(options as RedisQueueOptions, ownConnection(errors, connection, RedisConnection)),
});
