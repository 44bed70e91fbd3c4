import { type Backend, defineBackend, ownConnection, SPI_VERSION } from '@mq/core';
import { MemoryConnection, type MemoryConnectionOptions } from './connection.js';
import { MemoryQueue, type MemoryQueueOptions } from './queue.js';

/** The `@mq/memory` backend descriptor: serves `memory:` URIs and can do everything the contract asks. */
export const memoryBackend: Backend = defineBackend({
  spiVersion: SPI_VERSION,
  name: '@mq/memory',
  schemes: ['memory'],
  capabilities: {
    broadcast: true,
    broadcastIsolated: true,
    nackRequeue: true,
    redeliverUnacked: true,
    retainUnicast: true,
    prefetch: true,
    sameConnectionReceivers: true,
    metadata: true,
    deadLetter: true,
    countsDeliveries: true,
    movesExactlyOnce: true,
    retriesBehind: true,
    broadcastRedelivery: true,
  },
  createConnection: (options) => new MemoryConnection(options as MemoryConnectionOptions),
  createQueue: (options, connection) =>
    new MemoryQueue(options as MemoryQueueOptions, ownConnection('mq/memory', connection, MemoryConnection)),
});
