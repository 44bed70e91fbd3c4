// The entry for apps: what an app needs to open connections and queues, send, receive, wait, pick a backend by
// URI and observe. Backend authors import `@mq/core/spi`, which re-exports all of this.
export { type Backend, type Capabilities, packageForScheme, selectBackend } from './api/backends.js';
export type { Codec, CodecName, CodecOption, Sendable } from './api/codec.js';
export type { Connection, ConnectionEvents, ConnectionOptions } from './api/connection.js';
export {
  ERROR_CHANNEL,
  type ErrorEvent,
  PROCESS_CHANNEL,
  type ProcessTrace,
  SEND_CHANNEL,
  type SendTrace,
  STATUS_CHANNEL,
  type StatusEvent,
} from './api/diagnostics.js';
export { MqError, type MqErrorCode, type MqErrorOptions } from './api/errors.js';
export type { ConnectionHealth, QueueHealth } from './api/health.js';
export {
  DEFAULT_PREFETCH,
  DEFAULT_RETRY_DELAY_MILLIS,
  MAX_DELIVERIES_LIMIT,
  MAX_HEADER_BYTES,
  MAX_HEADERS,
  MAX_QUEUE_NAME_LENGTH,
  QUEUE_NAME_PATTERN,
} from './api/limits.js';
export type { Message, MessageMetadata } from './api/message.js';
export { MQ_HEADERS, replayOptions } from './api/mq-headers.js';
export type { Observable } from './api/observable.js';
export type {
  MessageHandler,
  MessagesOptions,
  Queue,
  QueueEvents,
  QueueOptions,
  UntypedQueueOptions,
} from './api/queue.js';
export type { Reply, RequestOptions } from './api/reply.js';
export type { SendOptions } from './api/send-options.js';
export type { StandardSchemaV1 } from './api/standard-schema.js';
export type { Status } from './api/status.js';
export type { TlsOptions } from './api/tls.js';
export { type StatusSource, type WaitOptions, waitForStatus } from './api/wait.js';
