import { type Backend, defineBackend, SPI_VERSION } from '@mq/core/spi';
import { AmqpConnection } from './connection.js';
import type { AmqpConnectionOptions, AmqpQueueOptions } from './options.js';
import { AmqpQueue } from './queue.js';
import { AMQP_TRAITS } from './traits.js';

/** The `@mq/amqp` backend descriptor: serves `amqp:` and `amqps:` URIs; AMQP can do everything the contract asks. */
export const amqpBackend: Backend = defineBackend({
  spiVersion: SPI_VERSION,
  name: '@mq/amqp',
  schemes: ['amqp', 'amqps'],
  capabilities: AMQP_TRAITS,
  createConnection: (options) => new AmqpConnection(options as AmqpConnectionOptions),
  // The queue's constructor checks the connection is one of this backend's, and refuses what the traits rule out.
  createQueue: (options, connection) =>
    new AmqpQueue(options as AmqpQueueOptions, connection as AmqpConnection),
});
