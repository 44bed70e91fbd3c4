import { type Backend, defineBackend, ownConnection, SPI_VERSION } from '@mq/core/spi';
import { AmqpConnection } from './connection.js';
import { errors } from './errors.js';
import type { AmqpConnectionOptions, AmqpQueueOptions } from './options.js';
import { AmqpQueue } from './queue.js';

/** The `@mq/amqp` backend descriptor: serves `amqp:` and `amqps:` URIs; AMQP can do everything the contract asks. */
export const amqpBackend: Backend = defineBackend({
  spiVersion: SPI_VERSION,
  name: '@mq/amqp',
  schemes: ['amqp', 'amqps'],
  capabilities: {
    broadcast: true,
    broadcastIsolated: true,
    nackRequeue: true,
    redeliverUnacked: true,
    retainUnicast: true,
    prefetch: true,
    // `uri` may list several brokers (a cluster): core rotates, the connection dials `addressIndex`.
    multipleAddresses: true,
    sameConnectionReceivers: true,
    // SendOptions map to AMQP basic properties and the headers table.
    metadata: true,
    // Retries go behind the others, dead letters to a durable queue: copies confirmed, then the original acked
    // (a drop in between hands out the original again: at least once).
    deadLetter: true,
    countsDeliveries: true,
    movesExactlyOnce: false,
  },
  createConnection: (options) => new AmqpConnection(options as AmqpConnectionOptions),
  createQueue: (options, connection) =>
    new AmqpQueue(options as AmqpQueueOptions, ownConnection(errors, connection, AmqpConnection)),
});
