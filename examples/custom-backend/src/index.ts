export { redisBackend } from './backend.js';
export { RedisConnection, type RedisConnectionOptions } from './connection.js';
export { RedisQueue, type RedisQueueOptions } from './queue.js';
