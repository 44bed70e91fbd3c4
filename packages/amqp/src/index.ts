export { amqpBackend } from './backend.js';
export { AmqpConnection, type AmqpConnectionEvents } from './connection.js';
export type { AmqpMessage } from './message.js';
export type {
  AmqpConnectionOptions,
  AmqpConnectionSettings,
  AmqpQueueOptions,
  AmqpTlsOptions,
} from './options.js';
export { AmqpQueue } from './queue.js';
