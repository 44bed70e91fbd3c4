/** The rule every queue name follows: lower-case ASCII words of `[a-z0-9_-]` joined by single dots. */
export const QUEUE_NAME_PATTERN: RegExp = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;

/** The longest queue name, in bytes (AMQP's shortstr limit). */
export const MAX_QUEUE_NAME_LENGTH = 255;

/** The longest delay Node's timers take (2^31 - 1 ms, about 24.8 days): a longer one fires at once. */
export const MAX_TIMER_MILLIS = 2_147_483_647;

/** The `prefetch` of a receiver that gives none, on every backend. */
export const DEFAULT_PREFETCH = 100;

/** The largest `prefetch` (AMQP's `basic.qos` takes a 16-bit count). */
export const MAX_PREFETCH = 65_535;

/** The `reconnectMillis` of a connection or queue that gives none. */
export const DEFAULT_RECONNECT_MILLIS = 1000;

/** The `sendTimeoutMillis` of a queue that gives none. */
export const DEFAULT_SEND_TIMEOUT_MILLIS = 30_000;

/** The `sendBufferMessages` of a queue that gives none: sends waiting for the link at once, at most. */
export const DEFAULT_SEND_BUFFER_MESSAGES = 10_000;

/** The `sendBufferBytes` of a queue that gives none (32 MiB): payload bytes waiting for the link at once, at most. */
export const DEFAULT_SEND_BUFFER_BYTES = 33_554_432;

/** The `closeTimeoutMillis` of a queue that gives none. */
export const DEFAULT_CLOSE_TIMEOUT_MILLIS = 30_000;

/** The `connectTimeoutMillis` of a connection that gives none. */
export const DEFAULT_CONNECT_TIMEOUT_MILLIS = 3000;

/** The `retryDelayMillis` of a receiver that gives none. */
export const DEFAULT_RETRY_DELAY_MILLIS = 1000;

/** The most deliveries `maxDeliveries` may allow. */
export const MAX_DELIVERIES_LIMIT = 1_000_000;

/** The default of `reconnectMaxMillis` (unless `reconnectMillis` is larger). */
export const DEFAULT_RECONNECT_MAX_MILLIS = 30_000;

/** The most addresses `uri` may list. */
export const MAX_ADDRESSES = 64;

/** The most headers one message may carry. */
export const MAX_HEADERS = 64;

/** The most bytes (UTF-8) of header names and values one message may carry. */
export const MAX_HEADER_BYTES = 16_384;
