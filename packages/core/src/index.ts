export { Backoff, type BackoffSettings } from './backoff.js';
export { type AttachedQueue, BaseConnection, STABLE_LINK_MILLIS } from './base-connection.js';
export { BaseQueue, type QueueHost } from './base-queue.js';
export {
  CONNECTION_OPTION_KEYS,
  type ConnectionOptionsSpec,
  DEFAULT_RECONNECT_MAX_MILLIS,
  resolveSharedConnectionOptions,
  type SharedConnectionOptions,
} from './connection-options.js';
export { settleWithin, withDeadline } from './deadline.js';
export {
  ERROR_CHANNEL,
  type ErrorEvent,
  PROCESS_CHANNEL,
  type ProcessTrace,
  SEND_CHANNEL,
  type SendTrace,
  STATUS_CHANNEL,
  type StatusEvent,
} from './diagnostics.js';
export { type EventMap, TypedEmitter } from './emitter.js';
export { MqError, type MqErrorCode, type MqErrorOptions, needsAttention, toMqError } from './errors.js';
export {
  DEFAULT_RETRY_DELAY_MILLIS,
  type FailurePolicyOptions,
  MAX_DELIVERIES_LIMIT,
} from './failure-options.js';
export type { PendingSend } from './in-flight.js';
export { classifyLinkError, isLinkReset } from './link-errors.js';
export { type DeliveredMessage, SETTLED, SettleOnceMessage } from './message.js';
export {
  checkSendOptions,
  hasMetadata,
  MAX_HEADER_BYTES,
  MAX_HEADERS,
  type MessageMetadata,
  NO_HEADERS,
  type SendOptions,
} from './metadata.js';
export { MQ_HEADERS, replayOptions } from './mq-headers.js';
export {
  checkHandler,
  checkPayload,
  checkQueueName,
  checkUri,
  DEFAULT_PREFETCH,
  describeValue,
  invalid,
  MAX_QUEUE_NAME_LENGTH,
  MAX_TIMER_MILLIS,
  type PrefetchRule,
  QUEUE_NAME_PATTERN,
  QUEUE_OPTION_KEYS,
  type ResolvedQueueOptions,
  readBoolean,
  readInteger,
  readMillis,
  readOptions,
  readString,
  redactUri,
  resolveQueueOptions,
} from './options.js';
export {
  type Backend,
  type Capabilities,
  defineBackend,
  ownConnection,
  packageForScheme,
  SPI_VERSION,
  selectBackend,
} from './spi.js';
export { canTransition, STATUSES, type Status, TRANSITIONS } from './status.js';
export { readTlsOptions, type TlsOptions } from './tls-options.js';
export type {
  Connection,
  ConnectionEvents,
  ConnectionOptions,
  Message,
  MessageHandler,
  MessagesOptions,
  Observable,
  Queue,
  QueueEvents,
  QueueOptions,
} from './types.js';
export { type StatusSource, type WaitOptions, waitForStatus } from './wait.js';
