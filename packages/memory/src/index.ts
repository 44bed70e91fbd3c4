export { memoryBackend } from './backend.js';
export { MemoryBroker } from './broker.js';
export { MemoryConnection, type MemoryConnectionOptions } from './connection.js';
export { memoryContractFaults } from './faults.js';
export { MemoryQueue, type MemoryQueueOptions, memoryQueueSetup } from './queue.js';
