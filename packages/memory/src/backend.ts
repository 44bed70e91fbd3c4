import { type Backend, defineBackend, SPI_VERSION } from '@mq/core/spi';
import { MemoryConnection, type MemoryConnectionOptions } from './connection.js';
import { MemoryQueue, type MemoryQueueOptions } from './queue.js';
import { MEMORY_TRAITS } from './traits.js';

/** The `@mq/memory` backend descriptor: serves `memory:` URIs and can do everything the contract asks. */
export const memoryBackend: Backend = defineBackend({
  spiVersion: SPI_VERSION,
  name: '@mq/memory',
  schemes: ['memory'],
  capabilities: MEMORY_TRAITS,
  createConnection: (options) => new MemoryConnection(options as MemoryConnectionOptions),
  // The queue's constructor checks the connection is one of this backend's, and refuses what the traits rule out.
  createQueue: (options, connection) =>
    new MemoryQueue(options as MemoryQueueOptions, connection as MemoryConnection),
});
