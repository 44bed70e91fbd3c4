// The entry for backend authors and the testkit (`@mq/core/spi`): the base classes, the plug-in contract's types
// and helpers, and every name of the app entry (`../index.ts`) again, the same objects, so that one import serves.
export { type Backend, type Capabilities, packageForScheme, selectBackend } from '../api/backends.js';
export type { Codec, CodecName, CodecOption, Sendable } from '../api/codec.js';
export type { Connection, ConnectionEvents, ConnectionOptions } from '../api/connection.js';
export {
  ERROR_CHANNEL,
  type ErrorEvent,
  PROCESS_CHANNEL,
  type ProcessTrace,
  SEND_CHANNEL,
  type SendTrace,
  STATUS_CHANNEL,
  type StatusEvent,
} from '../api/diagnostics.js';
export { MqError, type MqErrorCode, type MqErrorOptions } from '../api/errors.js';
export type { ConnectionHealth, QueueHealth } from '../api/health.js';
export {
  DEFAULT_PREFETCH,
  DEFAULT_RETRY_DELAY_MILLIS,
  MAX_DELIVERIES_LIMIT,
  MAX_HEADER_BYTES,
  MAX_HEADERS,
  MAX_QUEUE_NAME_LENGTH,
  MAX_TIMER_MILLIS,
  QUEUE_NAME_PATTERN,
} from '../api/limits.js';
export type { Message, MessageMetadata } from '../api/message.js';
export { NO_HEADERS } from '../api/message.js';
export { MQ_HEADERS, replayOptions } from '../api/mq-headers.js';
export type { Observable } from '../api/observable.js';
export type {
  MessageHandler,
  MessagesOptions,
  Queue,
  QueueEvents,
  QueueOptions,
  UntypedQueueOptions,
} from '../api/queue.js';
export type { Reply, RequestOptions } from '../api/reply.js';
export type { SendOptions } from '../api/send-options.js';
export type { StandardSchemaV1 } from '../api/standard-schema.js';
export type { Status } from '../api/status.js';
export type { TlsOptions } from '../api/tls.js';
export { type StatusSource, type WaitOptions, waitForStatus } from '../api/wait.js';
export { Backoff, type BackoffSettings } from './backoff.js';
export type { ResolvedCodec } from './codec/codecs.js';
export { BaseConnection, STABLE_LINK_MILLIS } from './connection/base-connection.js';
export type { ConnectionSetup, LinkCore, LinkDriver } from './connection/link-driver.js';
export { settleWithin, withDeadline } from './deadline.js';
export { defineBackend, ownConnection } from './define-backend.js';
export { describeValue } from './describe.js';
export { type EventMap, TypedEmitter } from './emitter.js';
export { needsAttention, type PackageErrors, packageErrors, toMqError } from './errors.js';
export { classifyLinkError, isLinkReset } from './link-errors.js';
export { type DeliveredMessage, SETTLED, SettleOnceMessage } from './message.js';
export {
  type ConnectionOptionsSpec,
  resolveSharedConnectionOptions,
  type SharedConnectionOptions,
} from './options/connection-options.js';
export type { FailurePolicyOptions } from './options/failure-options.js';
export {
  type ResolvedQueueOptions,
  type ResolvedReceiverOptions,
  type ResolvedSenderOptions,
  resolveQueueOptions,
} from './options/queue-options.js';
export { hasMetadata } from './options/send-options.js';
export { type ResolvedTls, readTlsOptions, type TlsConnectOptions } from './options/tls-options.js';
export { checkUri, redactUri } from './options/uri.js';
export {
  type ExtraKeys,
  type Field,
  type FieldsSpec,
  type IntegerRange,
  OptionReader,
  type ReaderTable,
  readFields,
} from './options/validate.js';
export { BaseQueue, type QueueSetup } from './queue/base-queue.js';
export type { PendingSend } from './queue/in-flight.js';
export type { QueueCore, QueueDriver, QueueDriverFactory } from './queue/queue-driver.js';
export { topicMatcher, topicMatches } from './routing/matcher.js';
export type { ResolvedRouting } from './routing/options.js';
export {
  checkTopic,
  checkTopicPattern,
  GROUP_PATTERN,
  MAX_TOPIC_LENGTH,
  MAX_TOPIC_PATTERNS,
  MAX_TOPIC_WORDS,
  TOPIC_WORD_PATTERN,
  topicOfLevels,
} from './routing/rules.js';
export { type NarrowableCapability, narrowTraits, type Traits } from './traits.js';
export { SPI_VERSION } from './version.js';
