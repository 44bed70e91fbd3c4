import { type Backend, defineBackend, ownConnection, SPI_VERSION } from '@mq/core';
import { AmqpConnection } from './connection.js';
import type { AmqpConnectionOptions, AmqpQueueOptions } from './options.js';
import { PKG } from './options.js';
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
    // A retry is a copy at the tail of the queue every receiver of the name consumes from.
    retriesBehind: true,
    // Each broadcast receiver has its own queue: a nack or a retry goes back there.
    broadcastRedelivery: true,
  },
  createConnection: (options) => new AmqpConnection(options as AmqpConnectionOptions),
  createQueue: (options, connection) =>
    new AmqpQueue(options as AmqpQueueOptions, ownConnection(PKG, connection, AmqpConnection)),
});
