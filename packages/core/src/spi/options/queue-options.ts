import {
  DEFAULT_CLOSE_TIMEOUT_MILLIS,
  DEFAULT_PREFETCH,
  DEFAULT_RECONNECT_MILLIS,
  DEFAULT_SEND_BUFFER_BYTES,
  DEFAULT_SEND_BUFFER_MESSAGES,
  DEFAULT_SEND_TIMEOUT_MILLIS,
  MAX_PREFETCH,
} from '../../api/limits.js';
import type { Message } from '../../api/message.js';
import type { QueueOptions } from '../../api/queue.js';
import type { StandardSchemaV1 } from '../../api/standard-schema.js';
import {
  type ResolvedCodec,
  readCodec,
  readConcurrency,
  readOrderingKey,
  readSchema,
} from '../codec/codecs.js';
import { describeValue } from '../describe.js';
import type { PackageErrors } from '../errors.js';
import { type ResolvedRouting, readRouting } from '../routing/options.js';
import {
  type FailurePolicyOptions,
  failurePolicy,
  readAckTimeout,
  readDeadLetter,
  readMaxDeliveries,
  readRetryDelay,
} from './failure-options.js';
import { type ExtraKeys, OptionReader, type ReaderTable } from './validate.js';

/**
 * The reader of each shared queue option, defaults included: one entry per field of `QueueOptions`, so that an
 * option added there without a reader (or a reader left after its option went) does not compile. The key list
 * every backend accepts is this table's.
 */
const QUEUE_OPTIONS = {
  name: (read) => read.queueName('name'),
  isRecv: (read) => read.boolean('isRecv'),
  reliable: (read) => read.boolean('reliable', false),
  broadcast: (read) => read.boolean('broadcast', false),
  reconnectMillis: (read) => read.millis('reconnectMillis', DEFAULT_RECONNECT_MILLIS),
  sendTimeoutMillis: (read) => read.millis('sendTimeoutMillis', DEFAULT_SEND_TIMEOUT_MILLIS),
  sendBufferMessages: (read) =>
    read.integer(
      'sendBufferMessages',
      { min: 0, max: MAX_SEND_BUFFER_MESSAGES },
      DEFAULT_SEND_BUFFER_MESSAGES,
    ),
  sendBufferBytes: (read) =>
    read.integer('sendBufferBytes', { min: 0, max: MAX_SEND_BUFFER_BYTES }, DEFAULT_SEND_BUFFER_BYTES),
  closeTimeoutMillis: (read) => read.millis('closeTimeoutMillis', DEFAULT_CLOSE_TIMEOUT_MILLIS),
  prefetch: (read) => read.integer('prefetch', { min: 1, max: MAX_PREFETCH }, DEFAULT_PREFETCH),
  retryDelayMillis: readRetryDelay,
  maxDeliveries: readMaxDeliveries,
  deadLetter: readDeadLetter,
  ackTimeoutMillis: readAckTimeout,
  // Read together, by `readRouting`: which of them a queue takes depends on the others.
  routing: (read) => read.raw('routing'),
  topics: (read) => read.raw('topics'),
  group: (read) => read.raw('group'),
  codec: readCodec,
  schema: readSchema,
  concurrency: readConcurrency,
  orderingKey: readOrderingKey,
} as const satisfies ReaderTable<QueueOptions>;

/** The largest `sendBufferMessages`: far more waiting sends than any link catches up on within a deadline. */
const MAX_SEND_BUFFER_MESSAGES = 1_000_000;

/** The largest `sendBufferBytes` (2 GiB - 1): more than a process should hold for a link that is down. */
const MAX_SEND_BUFFER_BYTES = 2_147_483_647;

/** Options only a receiver takes: a sender given one is refused rather than left to wonder why it does nothing. */
const RECEIVER_ONLY = [
  'prefetch',
  'retryDelayMillis',
  'maxDeliveries',
  'deadLetter',
  'ackTimeoutMillis',
  'concurrency',
  'orderingKey',
] as const satisfies readonly (keyof QueueOptions)[];

/** What every queue has once its options are validated. */
interface ResolvedCommonOptions extends ResolvedRouting {
  /** See {@link QueueOptions.name}. */
  readonly name: string;
  /** See {@link QueueOptions.reliable}. */
  readonly reliable: boolean;
  /** See {@link QueueOptions.broadcast}. */
  readonly broadcast: boolean;
  /** See {@link QueueOptions.reconnectMillis}. */
  readonly reconnectMillis: number;
  /** See {@link QueueOptions.sendTimeoutMillis}. */
  readonly sendTimeoutMillis: number;
  /** See {@link QueueOptions.sendBufferMessages}. */
  readonly sendBufferMessages: number;
  /** See {@link QueueOptions.sendBufferBytes}. */
  readonly sendBufferBytes: number;
  /** See {@link QueueOptions.closeTimeoutMillis}. */
  readonly closeTimeoutMillis: number;
  /** See {@link QueueOptions.codec}; the `'bytes'` codec when none was given. */
  readonly codec: ResolvedCodec;
  /** See {@link QueueOptions.schema}. */
  readonly schema: StandardSchemaV1 | undefined;
}

/** A sender's options after validation: it has no `prefetch` and no failure policy. */
export interface ResolvedSenderOptions extends ResolvedCommonOptions {
  /** A sender. */
  readonly isRecv: false;
}

/** A receiver's options after validation: it always has a `prefetch` and a failure policy. */
export interface ResolvedReceiverOptions extends ResolvedCommonOptions {
  /** A receiver. */
  readonly isRecv: true;
  /** See {@link QueueOptions.prefetch}; `DEFAULT_PREFETCH` when none was given. */
  readonly prefetch: number;
  /** What the receiver does when a handler fails (`retryDelayMillis`, `maxDeliveries`, `deadLetter`, `ackTimeoutMillis`). */
  readonly failure: FailurePolicyOptions;
  /** See {@link QueueOptions.concurrency}; `undefined`: no limit but `prefetch`. */
  readonly concurrency: number | undefined;
  /** See {@link QueueOptions.orderingKey}. */
  readonly orderingKey: ((message: Message<unknown>) => string | undefined) | undefined;
}

/** The shared queue options after validation, defaults filled in: a sender's or a receiver's. */
export type ResolvedQueueOptions = ResolvedSenderOptions | ResolvedReceiverOptions;

/**
 * Validates the shared queue options (plus the backend's own, named in `extraKeys`, which it reads itself through
 * the returned `read`) and fills in defaults. Reads own fields only. Throws `INVALID_OPTIONS` naming the field
 * and the rule. `readName`, if given, reads `name` instead of the shared rule (`QUEUE_NAME_PATTERN`): for a
 * backend that attaches to queues it does not declare, whose names follow the broker's rule, not mq's.
 */
export function resolveQueueOptions<T extends QueueOptions = QueueOptions>(
  errors: PackageErrors,
  input: unknown,
  extraKeys: ExtraKeys<T, QueueOptions>,
  readName?: (read: OptionReader<T>) => string,
): { options: ResolvedQueueOptions; read: OptionReader<T> } {
  const read = new OptionReader<T>(errors, input, {
    what: 'queue options',
    keys: [...Object.keys(QUEUE_OPTIONS), ...Object.keys(extraKeys)],
  });
  const shared: OptionReader<QueueOptions> = read;
  const name = readName ? readName(read) : QUEUE_OPTIONS.name(shared);
  const isRecv = QUEUE_OPTIONS.isRecv(shared);
  if (!isRecv) {
    const given = RECEIVER_ONLY.find((key) => shared.has(key));
    if (given !== undefined) {
      throw read.fail(
        `${given} is for receivers only (isRecv: true), got ${describeValue(shared.raw(given))} on a sender`,
      );
    }
  }
  const broadcast = QUEUE_OPTIONS.broadcast(shared);
  const common: ResolvedCommonOptions = {
    ...readRouting(shared, isRecv, broadcast),
    name,
    reliable: QUEUE_OPTIONS.reliable(shared),
    broadcast,
    reconnectMillis: QUEUE_OPTIONS.reconnectMillis(shared),
    sendTimeoutMillis: QUEUE_OPTIONS.sendTimeoutMillis(shared),
    sendBufferMessages: QUEUE_OPTIONS.sendBufferMessages(shared),
    sendBufferBytes: QUEUE_OPTIONS.sendBufferBytes(shared),
    closeTimeoutMillis: QUEUE_OPTIONS.closeTimeoutMillis(shared),
    codec: QUEUE_OPTIONS.codec(shared),
    schema: QUEUE_OPTIONS.schema(shared),
  };
  if (!isRecv) return { options: Object.freeze({ ...common, isRecv }), read };
  const prefetch = QUEUE_OPTIONS.prefetch(shared);
  const failure = failurePolicy(
    shared,
    name,
    {
      retryDelayMillis: QUEUE_OPTIONS.retryDelayMillis(shared),
      maxDeliveries: QUEUE_OPTIONS.maxDeliveries(shared),
      deadLetter: QUEUE_OPTIONS.deadLetter(shared),
      ackTimeoutMillis: QUEUE_OPTIONS.ackTimeoutMillis(shared),
    },
    common.codec.name !== 'bytes' || common.schema !== undefined,
  );
  const concurrency = QUEUE_OPTIONS.concurrency(shared);
  const orderingKey = QUEUE_OPTIONS.orderingKey(shared);
  return {
    options: Object.freeze({ ...common, isRecv, prefetch, failure, concurrency, orderingKey }),
    read,
  };
}
