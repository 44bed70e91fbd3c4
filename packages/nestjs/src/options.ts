import type { Backend, QueueOptions } from '@mq/core';
import { describeValue, invalidOption } from './errors.js';

/**
 * Queue options for one pattern: mq's `QueueOptions` without `name` and `isRecv` (the pattern and the side give
 * those), plus the backend's own (`persistent`, `queueType`, `sharedPrefix`, ...), which the backend validates.
 */
export type MqQueueOptions = Omit<QueueOptions, 'name' | 'isRecv'> & Readonly<Record<string, unknown>>;

/** Options of {@link MqServer}, {@link MqClient} and `MqModule.forRoot`. */
export interface MqTransportOptions {
  /**
   * The broker: a URI whose scheme picks the backend (`amqp://`, `amqps://`, `mqtt://`, `mqtts://`, `ws://`,
   * `wss://`, `memory://`), or an array of them, one per node of a cluster.
   */
  uri: string | readonly string[];
  /**
   * The backends to pick from by scheme (`amqpBackend`, `mqttBackend`, `memoryBackend`, a third party's).
   * @default the first-party package for the scheme (`@mq/amqp`, `@mq/mqtt`, `@mq/memory`), loaded when needed
   */
  backends?: readonly Backend[];
  /** The backend's other connection options (`reconnectMillis`, `heartbeatSeconds`, `clientId`, `tls`, ...). */
  connection?: Readonly<Record<string, unknown>>;
  /**
   * Queue options for every pattern, below `queues` and a pattern's own extras.
   * @default { reliable: true }
   */
  queueDefaults?: MqQueueOptions;
  /** Queue options per pattern (the queue name), above `queueDefaults`. */
  queues?: Readonly<Record<string, MqQueueOptions>>;
  /**
   * Milliseconds `listen()` waits for every receiver, and the first `emit()` of a pattern for its connection and
   * sender, to be connected; past it they fail with `TIMEOUT` carrying the last error.
   * @default 30000
   */
  startTimeoutMillis?: number;
  /**
   * Clients: milliseconds `send()` waits for the reply before erroring with `TIMEOUT` (the request also expires
   * on the broker then).
   * @default the sender's `sendTimeoutMillis` (30000 unless set)
   */
  requestTimeoutMillis?: number;
}

/** {@link MqTransportOptions} checked, with their defaults. */
export interface ResolvedTransportOptions {
  /** As given. */
  readonly uri: string | readonly string[];
  /** As given; undefined: the first-party package of the scheme. */
  readonly backends: readonly Backend[] | undefined;
  /** A copy, `{}` when not given. */
  readonly connection: Readonly<Record<string, unknown>>;
  /** `{ reliable: true }` under what was given. */
  readonly queueDefaults: MqQueueOptions;
  /** A copy of each entry, `{}` when not given. */
  readonly queues: Readonly<Record<string, MqQueueOptions>>;
  /** As given, or the default. */
  readonly startTimeoutMillis: number;
  /** As given; undefined: the sender's `sendTimeoutMillis`. */
  readonly requestTimeoutMillis: number | undefined;
}

/** Every option of {@link MqTransportOptions}; `satisfies` keeps the list in step with the interface. */
const TRANSPORT_KEYS = Object.keys({
  uri: true,
  backends: true,
  connection: true,
  queueDefaults: true,
  queues: true,
  startTimeoutMillis: true,
  requestTimeoutMillis: true,
} satisfies Record<keyof MqTransportOptions, true>);

/**
 * Receiver-only queue options: a sender made for `emit()` leaves them out of `queueDefaults` and `queues` (mq
 * refuses them on senders), so one `queues` entry serves both sides of a pattern.
 */
const RECEIVER_ONLY = [
  'prefetch',
  'retryDelayMillis',
  'maxDeliveries',
  'deadLetter',
  'ackTimeoutMillis',
  'group',
  'topics',
];

/** The default of `startTimeoutMillis`. */
export const DEFAULT_START_TIMEOUT_MILLIS = 30_000;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function own(options: object, key: string): unknown {
  return Object.hasOwn(options, key) ? (options as Record<string, unknown>)[key] : undefined;
}

function queueOptions(field: string, value: unknown): MqQueueOptions {
  if (value === undefined) return {};
  if (!isPlainObject(value))
    throw invalidOption(`${field} must be an object of queue options, got ${describeValue(value)}`);
  for (const key of ['name', 'isRecv']) {
    if (Object.hasOwn(value, key))
      throw invalidOption(`${field}.${key} cannot be set: the pattern gives the queue name and the side`);
  }
  return { ...value };
}

/** Checks transport options (own properties only; unknown fields refused) and fills in the defaults. */
export function readTransportOptions(options: unknown, where: string): ResolvedTransportOptions {
  if (!isPlainObject(options))
    throw invalidOption(`${where} options must be an object, got ${describeValue(options)}`);
  for (const key of Object.keys(options)) {
    if (!TRANSPORT_KEYS.includes(key))
      throw invalidOption(
        `${where} options: unknown field ${JSON.stringify(key)} (known: ${TRANSPORT_KEYS.join(', ')})`,
      );
  }
  const uri = own(options, 'uri');
  const validUri =
    typeof uri === 'string' || (Array.isArray(uri) && uri.every((one) => typeof one === 'string'));
  if (!validUri)
    throw invalidOption(`uri must be a URI string or an array of them, got ${describeValue(uri)}`);
  const backends = own(options, 'backends');
  const isDescriptor = (value: unknown): boolean =>
    typeof value === 'object' && value !== null && Array.isArray((value as { schemes?: unknown }).schemes);
  if (backends !== undefined && !(Array.isArray(backends) && backends.every(isDescriptor)))
    throw invalidOption(
      `backends must be an array of backend descriptors (amqpBackend, ...), got ${describeValue(backends)}`,
    );
  const connection = own(options, 'connection') ?? {};
  if (!isPlainObject(connection))
    throw invalidOption(
      `connection must be an object of connection options, got ${describeValue(connection)}`,
    );
  if (Object.hasOwn(connection, 'uri')) throw invalidOption('connection.uri cannot be set: give uri instead');
  const queues = own(options, 'queues') ?? {};
  if (!isPlainObject(queues))
    throw invalidOption(`queues must be an object keyed by pattern, got ${describeValue(queues)}`);
  const checkedQueues: Record<string, MqQueueOptions> = {};
  for (const [name, value] of Object.entries(queues))
    checkedQueues[name] = queueOptions(`queues.${name}`, value);
  const startTimeoutMillis = own(options, 'startTimeoutMillis') ?? DEFAULT_START_TIMEOUT_MILLIS;
  if (
    typeof startTimeoutMillis !== 'number' ||
    !Number.isInteger(startTimeoutMillis) ||
    startTimeoutMillis < 1
  )
    throw invalidOption(
      `startTimeoutMillis must be a positive integer, got ${describeValue(startTimeoutMillis)}`,
    );
  const requestTimeoutMillis = own(options, 'requestTimeoutMillis');
  if (
    requestTimeoutMillis !== undefined &&
    (typeof requestTimeoutMillis !== 'number' ||
      !Number.isInteger(requestTimeoutMillis) ||
      requestTimeoutMillis < 1)
  )
    throw invalidOption(
      `requestTimeoutMillis must be a positive integer, got ${describeValue(requestTimeoutMillis)}`,
    );
  return {
    uri: uri as string | readonly string[],
    backends: backends as readonly Backend[] | undefined,
    connection: { ...connection },
    queueDefaults: { reliable: true, ...queueOptions('queueDefaults', own(options, 'queueDefaults')) },
    queues: checkedQueues,
    startTimeoutMillis,
    requestTimeoutMillis: requestTimeoutMillis as number | undefined,
  };
}

/**
 * A receiver's options for `pattern`: defaults, then `queues[pattern]`, then the handler's extras. A `group`
 * (for topic patterns, see `MqTopicPattern`) is left out of a named queue's receiver, which has no groups.
 */
export function receiverOptions(
  options: ResolvedTransportOptions,
  pattern: string,
  extras: Readonly<Record<string, unknown>> | undefined,
): QueueOptions & Record<string, unknown> {
  return {
    ...options.queueDefaults,
    ...options.queues[pattern],
    ...queueOptions(`the extras of @EventPattern('${pattern}')`, extras ?? undefined),
    name: pattern,
    isRecv: true,
  };
}

/** {@link receiverOptions} for a named queue (not a topic space): without `group`, which only topic receivers take. */
export function namedReceiverOptions(
  options: ResolvedTransportOptions,
  pattern: string,
  extras: Readonly<Record<string, unknown>> | undefined,
): QueueOptions & Record<string, unknown> {
  const merged = receiverOptions(options, pattern, extras);
  if (merged.routing === 'topic') return merged;
  const { group: _group, ...rest } = merged;
  return rest as QueueOptions & Record<string, unknown>;
}

/** A sender's options for `pattern`: defaults, then `queues[pattern]`, without the receiver-only options. */
export function senderOptions(
  options: ResolvedTransportOptions,
  pattern: string,
): QueueOptions & Record<string, unknown> {
  const merged: Record<string, unknown> = { ...options.queueDefaults, ...options.queues[pattern] };
  for (const key of RECEIVER_ONLY) delete merged[key];
  return { ...merged, name: pattern, isRecv: false };
}
