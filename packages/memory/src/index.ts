export { memoryBackend } from './backend.js';
export { MemoryBroker, type Session } from './broker.js';
export { MemoryConnection, type MemoryConnectionOptions } from './connection.js';
export type { Consumer, Mailbox, Stored } from './mailbox.js';
export { MemoryQueue, type MemoryQueueOptions } from './queue.js';
