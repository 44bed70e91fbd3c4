import {
  type Connection,
  type Message,
  type MqError,
  MqError as MqErrorClass,
  type MqErrorCode,
  type Queue,
  replayOptions,
  type Status,
  selectBackend,
  waitForStatus,
} from '@mq/core';
import { TypedEmitter } from '@mq/core/spi';
import fc from 'fast-check';
import { anyValue, edgyNumber, edgyString, hostile, optionsObject, SECRETS } from './hostile-values.js';
import { ALL_BACKENDS, someInteger, type Target, uniqueQueueName } from './targets.js';

// THE table of every public entry point that takes input. To cover a new one (`request()`, a `topic` option),
// add an entry: its arguments as fast-check arbitraries, how to call it, which codes and names a refusal may
// carry, and, for a call that worked, how to use and release what it made. fuzz.test.ts runs each entry on
// memory, RabbitMQ and Mosquitto (or once, when it does not depend on the backend).

/** What the entry points of one backend run against; made once per backend by the fuzz test. */
export interface World {
  /** The backend. */
  readonly target: Target;
  /** A connection to the backend's live broker, connected. */
  readonly connection: Connection;
  /** A connected reliable broadcast sender, with a receiver of its name that acks everything. */
  readonly sender: Queue;
  /** Real TLS material, so that some generated `tls` options load. */
  readonly pem: TlsPem;
  /** How many more queues a property may connect to the broker (each costs a round trip). */
  connectBudget: number;
  /** Every `error` event of what the entry points made, to look for secrets in. */
  readonly seenErrors: MqError[];
}

/** PEM texts of a throwaway PKI. */
export interface TlsPem {
  /** A CA certificate. */
  readonly ca: string;
  /** A client certificate. */
  readonly cert: string;
  /** Its key, encrypted with {@link TlsPem.passphrase}. */
  readonly key: string;
  /** The key's passphrase: a secret no message may show. */
  readonly passphrase: string;
}

/** One public entry point, fuzzed. */
export interface EntryPoint {
  /** What the test calls it. */
  readonly name: string;
  /** `each`: on every backend; `once`: on memory only (it does not depend on the backend). */
  readonly scope: 'each' | 'once';
  /**
   * True when `call` reads all of its input before it returns and starts no I/O: the fuzz test then also calls it
   * with a polluted `Object.prototype`, which must change nothing.
   */
  readonly synchronous?: boolean;
  /** Its arguments. */
  input(world: World): fc.Arbitrary<readonly unknown[]>;
  /** The codes a refusal may carry. */
  readonly codes: readonly MqErrorCode[];
  /** A refusal's message names at least one of these (a field, an argument, the object). */
  names(world: World): readonly string[];
  /** Calls it with the (materialized) arguments; returns or resolves with what it made. */
  call(world: World, args: readonly unknown[]): unknown;
  /** For a call that worked: uses what it made, then releases it (bounded); throws when anything is wrong. */
  afterSuccess?(world: World, made: unknown, args: readonly unknown[]): Promise<void>;
}

/** Codes of a refused input. */
const REFUSED: readonly MqErrorCode[] = ['INVALID_OPTIONS', 'INVALID_ARGUMENT', 'UNSUPPORTED'];

/** The shared connection option names. */
const CONNECTION_NAMES = ['uri', 'connectTimeoutMillis', 'reconnectMillis', 'reconnectMaxMillis', 'tls'];

/** The shared queue option names. */
const QUEUE_FIELDS = {
  name: fc.oneof({ arbitrary: uniqueQueueName, weight: 3 }, { arbitrary: edgyString, weight: 1 }),
  isRecv: fc.oneof({ arbitrary: fc.boolean(), weight: 6 }, { arbitrary: anyValue, weight: 1 }),
  reliable: fc.oneof(fc.boolean(), anyValue),
  broadcast: fc.oneof({ arbitrary: fc.boolean(), weight: 3 }, { arbitrary: anyValue, weight: 1 }),
  reconnectMillis: someInteger,
  sendTimeoutMillis: someInteger,
  sendBufferMessages: someInteger,
  sendBufferBytes: someInteger,
  closeTimeoutMillis: someInteger,
  prefetch: someInteger,
  retryDelayMillis: fc.oneof(someInteger, fc.constant(false)),
  maxDeliveries: someInteger,
  deadLetter: fc.oneof(uniqueQueueName, edgyString),
  ackTimeoutMillis: someInteger,
} as const;

/** Hosts where nothing listens, so that a connection the fuzz accepts can connect and fail at once. */
const NOWHERE = ['127.0.0.1:1', '[::1]:1', 'localhost:1'];

/** URIs of every scheme, with credentials (the secret password), escapes, fragments, queries and bad hosts. */
function uri(world: World): fc.Arbitrary<unknown> {
  const one = fc
    .record({
      scheme: fc.constantFrom(...world.target.backend.schemes, 'amqp', 'mqtts', 'memory', 'http', ''),
      user: fc.constantFrom('', 'user', 'us%ZZer', 'u%40x'),
      password: fc.constantFrom('', SECRETS.password, `${SECRETS.password}%ZZ`, `${SECRETS.password}%E0%A4`),
      host: fc.constantFrom(...NOWHERE, '[bad', ''),
      tail: fc.constantFrom(
        '',
        '/',
        '/vh',
        '/mqtt',
        '?heartbeat=5',
        '?heartbeat=abc',
        '?x=1',
        '#frag',
        '#',
        '/?',
      ),
    })
    .map(({ scheme, user, password, host, tail }) => {
      const userinfo =
        user === '' && password === '' ? '' : `${user}${password === '' ? '' : `:${password}`}@`;
      return `${scheme}://${userinfo}${host}${tail}`;
    });
  return fc.oneof(
    { arbitrary: one, weight: 6 },
    { arbitrary: fc.array(one, { minLength: 0, maxLength: 12 }), weight: 2 },
    { arbitrary: fc.constant(`${world.target.uri().split('://')[0]}://${NOWHERE[0]}`), weight: 2 },
    { arbitrary: anyValue, weight: 1 },
  );
}

/** `tls` options: real PEMs (the key encrypted), garbage, the right and wrong passphrases. */
function tlsOptions(world: World): fc.Arbitrary<unknown> {
  const { pem } = world;
  const pemValue = fc.oneof(
    fc.constantFrom(pem.ca, pem.cert, pem.key, 'not a PEM', Buffer.from(pem.ca), [pem.ca, pem.cert]),
    anyValue,
  );
  return optionsObject({
    ca: pemValue,
    cert: pemValue,
    key: pemValue,
    passphrase: fc.oneof(fc.constantFrom(pem.passphrase, SECRETS.passphrase), anyValue),
    servername: edgyString,
    rejectUnauthorized: fc.oneof(fc.boolean(), anyValue),
  });
}

/** Connection options of the target's backend: the shared ones, `tls` and the backend's own. */
function connectionOptions(world: World): fc.Arbitrary<unknown> {
  return optionsObject({
    uri: uri(world),
    connectTimeoutMillis: someInteger,
    reconnectMillis: someInteger,
    reconnectMaxMillis: someInteger,
    tls: tlsOptions(world),
    ...world.target.connectionFields,
  });
}

/** Queue options of the target's backend: the shared ones and the backend's own. */
function queueOptions(world: World): fc.Arbitrary<unknown> {
  return optionsObject({ ...QUEUE_FIELDS, ...world.target.queueFields });
}

/** True when every URI of `options` (given explicitly) points nowhere or at an in-process broker. */
function pointsNowhere(options: unknown): boolean {
  if (typeof options !== 'object' || options === null) return false;
  const given = (options as { uri?: unknown }).uri;
  const uris = Array.isArray(given) ? given : [given];
  return uris.every((one) => {
    if (typeof one !== 'string') return false;
    if (one.startsWith('memory:')) return true;
    try {
      const url = new URL(one);
      return url.port === '1' && ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
    } catch {
      return false;
    }
  });
}

/** Resolves once `source` is not `connecting` any more (it failed, or connected), or after `millis`. */
function settledOrAfter(source: Connection | Queue, millis: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      source.off('status', onStatus);
      resolve();
    };
    const onStatus = (status: Status): void => {
      if (status !== 'connecting') done();
    };
    const timer = setTimeout(done, millis);
    source.on('status', onStatus);
  });
}

/** Closes `source` and fails unless it is `closed` within `millis`. */
export async function closeWithin(
  source: { close(): Promise<void>; status: Status },
  millis: number,
  what: string,
) {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: close() did not settle within ${millis} ms`)),
      millis,
    );
  });
  try {
    await Promise.race([source.close(), late]);
  } finally {
    clearTimeout(timer);
  }
  if (source.status !== 'closed') throw new Error(`${what}: status '${source.status}' after close()`);
}

/** A status source the test moves: `waitForStatus` on it must settle once it gets there. */
class MovableSource extends TypedEmitter<{ status: (status: Status) => void }> {
  status: Status = 'closed';

  /** Moves to `next`, telling the listeners. */
  move(next: Status): void {
    this.status = next;
    this.emit('status', next);
  }
}

const STATUSES: readonly Status[] = ['closed', 'connecting', 'connected', 'disconnected', 'closing'];

export const ENTRY_POINTS: readonly EntryPoint[] = [
  {
    name: 'new XConnection(options) and backend.createConnection(options)',
    synchronous: true,
    scope: 'each',
    input: (world) => fc.tuple(connectionOptions(world), fc.boolean()),
    codes: REFUSED,
    names: (world) => [
      ...CONNECTION_NAMES,
      ...Object.keys(world.target.connectionFields),
      'connection options',
    ],
    call: (world, [options, viaDescriptor]) =>
      viaDescriptor
        ? world.target.backend.createConnection(options as never)
        : world.target.newConnection(options),
    async afterSuccess(world, made, [options]) {
      const connection = made as Connection;
      connection.on('error', (error) => world.seenErrors.push(error));
      if (pointsNowhere(options)) {
        connection.connect();
        await settledOrAfter(connection, 500);
      }
      await closeWithin(connection, 5000, 'a fuzzed connection');
    },
  },
  {
    name: 'new XQueue(options, connection) and backend.createQueue(options, connection)',
    synchronous: true,
    scope: 'each',
    input: (world) =>
      fc.tuple(
        queueOptions(world),
        fc.oneof({ arbitrary: fc.constant('own'), weight: 8 }, { arbitrary: anyValue, weight: 1 }),
        fc.boolean(),
      ),
    codes: REFUSED,
    names: (world) => [
      ...Object.keys(QUEUE_FIELDS),
      ...Object.keys(world.target.queueFields),
      'queue options',
      'connection',
    ],
    call: (world, [options, connection, viaDescriptor]) => {
      const on = connection === 'own' ? world.connection : connection;
      return viaDescriptor
        ? world.target.backend.createQueue(options as never, on as never)
        : world.target.newQueue(options, on);
    },
    async afterSuccess(world, made, [options]) {
      const queue = made as Queue;
      queue.on('error', (error) => world.seenErrors.push(error));
      if (world.connectBudget > 0 && world.target.connectable(options as Record<string, unknown>)) {
        world.connectBudget -= 1;
        if (queue.isRecv) queue.setMsgHandler((_q, message) => message.ack());
        queue.connect();
        await settledOrAfter(queue, 5000);
      }
      await closeWithin(queue, 10_000, 'a fuzzed queue');
    },
  },
  {
    name: 'sendMsg(payload, options)',
    scope: 'each',
    input: () =>
      fc.tuple(
        fc.oneof(
          { arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)), weight: 4 },
          { arbitrary: fc.uint8Array({ maxLength: 64 }), weight: 2 },
          { arbitrary: anyValue, weight: 2 },
        ),
        fc.oneof(
          { arbitrary: fc.constant(undefined), weight: 1 },
          {
            arbitrary: optionsObject({
              headers: fc.oneof(
                fc.dictionary(edgyString, fc.oneof(edgyString, anyValue), { maxKeys: 6 }),
                fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 16 }), { maxKeys: 4 }),
                anyValue,
              ),
              messageId: fc.oneof(edgyString, anyValue),
              correlationId: fc.oneof(edgyString, anyValue),
              contentType: fc.oneof(fc.constantFrom('application/json', 'text/plain'), edgyString, anyValue),
              expirationMillis: fc.oneof(someInteger, edgyNumber),
            }),
            weight: 6,
          },
        ),
      ),
    codes: [...REFUSED, 'REJECTED'],
    names: () => [
      'payload',
      'send options',
      'headers',
      'header',
      'messageId',
      'correlationId',
      'contentType',
      'expirationMillis',
      'metadata',
    ],
    call: (world, [payload, options]) => world.sender.sendMsg(payload as never, options as never),
  },
  {
    name: 'request(payload, options)',
    scope: 'each',
    input: () =>
      fc.tuple(
        fc.oneof(
          { arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)), weight: 4 },
          { arbitrary: anyValue, weight: 2 },
        ),
        fc.oneof(
          { arbitrary: fc.constant(undefined), weight: 1 },
          {
            arbitrary: optionsObject({
              headers: fc.oneof(
                fc.dictionary(edgyString, fc.oneof(edgyString, anyValue), { maxKeys: 6 }),
                anyValue,
              ),
              correlationId: fc.oneof(edgyString, anyValue),
              contentType: fc.oneof(fc.constantFrom('application/json'), edgyString, anyValue),
              expirationMillis: fc.oneof(someInteger, edgyNumber),
              // Valid timeouts stay short: the property waits for each request to end (nobody answers).
              timeoutMillis: fc.oneof(
                fc.integer({ min: 1, max: 30 }),
                fc.constantFrom(0, -1, 0.5, Number.NaN, 2_147_483_648, '10', null),
                anyValue.filter((value) => typeof value !== 'number'),
              ),
              signal: fc.oneof(hostile, anyValue),
            }),
            weight: 6,
          },
        ),
      ),
    codes: [...REFUSED, 'REJECTED', 'TIMEOUT', 'ABORTED'],
    names: () => [
      'payload',
      'request options',
      'headers',
      'header',
      'correlationId',
      'contentType',
      'expirationMillis',
      'timeoutMillis',
      'signal',
      'metadata',
      'requests',
    ],
    call: (world, [payload, options]) => {
      // Without a short deadline a valid request waits its queue's sendTimeoutMillis (30 s) for a reply.
      let bounded: unknown = options ?? { timeoutMillis: 20 };
      try {
        const proto: unknown = options === undefined ? undefined : Object.getPrototypeOf(options);
        if (
          (proto === Object.prototype || proto === null) &&
          (options as { timeoutMillis?: unknown }).timeoutMillis === undefined
        )
          bounded = { ...(options as object), timeoutMillis: 20 };
      } catch {
        // A hostile object (a throwing getter, a revoked proxy) goes in as it is: it is refused, never waited on.
      }
      return world.sender.request(payload as never, bounded as never);
    },
  },
  {
    name: 'messages(options)',
    scope: 'each',
    input: () =>
      fc.tuple(
        fc.oneof(
          { arbitrary: fc.constant(undefined), weight: 1 },
          { arbitrary: optionsObject({ signal: fc.oneof(hostile, anyValue) }), weight: 6 },
        ),
        uniqueQueueName,
      ),
    codes: REFUSED,
    names: () => ['messages() options', 'signal'],
    call: (world, [options, name]) => {
      // Broadcast: nothing durable is left on the shared broker.
      const receiver = world.target.newQueue({ name, isRecv: true, broadcast: true }, world.connection);
      try {
        return { receiver, stream: receiver.messages(options as never) };
      } catch (error) {
        if (receiver.status !== 'closed')
          throw new Error(`a refused messages() left the receiver ${receiver.status}`);
        throw error;
      }
    },
    async afterSuccess(_world, made) {
      const { receiver, stream } = made as { receiver: Queue; stream: AsyncIterableIterator<Message> };
      await stream.return?.();
      await closeWithin(receiver, 10_000, 'the receiver of messages()');
    },
  },
  {
    name: 'on / once / off / addListener / removeListener / listenerCount(event, listener)',
    scope: 'each',
    input: () =>
      fc.tuple(
        fc.constantFrom('on', 'once', 'off', 'addListener', 'removeListener', 'listenerCount'),
        fc.oneof(fc.constantFrom('status', 'error'), edgyString, anyValue),
        fc.oneof(
          fc.constant(() => {}),
          anyValue,
        ),
        fc.boolean(),
      ),
    codes: ['INVALID_ARGUMENT'],
    names: () => ['event', 'listener'],
    call: (world, [method, event, listener, onQueue]) => {
      const target = onQueue ? world.sender : world.connection;
      const call = (target as unknown as Record<string, (...args: unknown[]) => unknown>)[method as string];
      call?.call(target, event, listener);
      // Whatever was added must never fire into the test with an exception: take it off again.
      if (method === 'on' || method === 'once' || method === 'addListener')
        target.off(event as never, listener as never);
    },
    async afterSuccess(_world, _made, [, event]) {
      // An event name is a string or a symbol: anything else would be a key nothing is ever emitted under.
      if (typeof event !== 'string' && typeof event !== 'symbol') {
        throw new Error(`an event name that is a ${typeof event} was taken`);
      }
    },
  },
  {
    name: 'waitForStatus(source, status, options)',
    scope: 'once',
    input: () =>
      fc.tuple(
        fc.oneof({ arbitrary: fc.constant('movable'), weight: 6 }, { arbitrary: anyValue, weight: 2 }),
        fc.oneof(fc.constantFrom(...STATUSES), anyValue),
        fc.oneof(
          fc.constant(undefined),
          optionsObject({
            // Valid timeouts stay short: the property waits for each call to settle.
            timeoutMillis: fc.oneof(
              fc.integer({ min: 0, max: 30 }),
              fc.constantFrom(-1, 0.5, Number.NaN, 2_147_483_648, Number.NEGATIVE_INFINITY, '10', null),
              anyValue.filter((value) => typeof value !== 'number'),
            ),
            signal: fc.oneof(hostile, anyValue),
          }),
        ),
      ),
    codes: ['INVALID_ARGUMENT', 'TIMEOUT', 'ABORTED'],
    names: () => ['waitForStatus', 'timeoutMillis', 'signal', 'status', 'source'],
    call: async (_world, [sourceChoice, status, options]) => {
      const source = sourceChoice === 'movable' ? new MovableSource() : sourceChoice;
      const waiting = waitForStatus(source as never, status as never, options as never);
      // A valid wait still pending (no timeout given: 10 s) must end once the source gets there.
      if (sourceChoice === 'movable' && STATUSES.includes(status as Status)) {
        setTimeout(() => (source as MovableSource).move(status as Status), 20);
      }
      await waiting;
    },
  },
  {
    name: 'selectBackend(uri, backends)',
    synchronous: true,
    scope: 'once',
    input: (world) =>
      fc.tuple(
        uri(world),
        fc.oneof(
          { arbitrary: fc.constant('all'), weight: 6 },
          { arbitrary: fc.array(fc.oneof(hostile, anyValue), { maxLength: 3 }), weight: 1 },
          { arbitrary: anyValue, weight: 1 },
        ),
      ),
    codes: REFUSED,
    names: () => ['uri', 'backends', 'no backend serves'],
    call: (_world, [uris, backends]) =>
      selectBackend(uris as never, (backends === 'all' ? ALL_BACKENDS : backends) as never),
  },
  {
    name: 'replayOptions(message, reserved)',
    synchronous: true,
    scope: 'once',
    input: () =>
      fc.tuple(
        fc.oneof(
          optionsObject({
            payload: fc.oneof(fc.constant(Buffer.from('x')), anyValue),
            headers: fc.oneof(fc.dictionary(edgyString, edgyString, { maxKeys: 5 }), anyValue),
            messageId: fc.oneof(edgyString, anyValue),
            correlationId: fc.oneof(edgyString, anyValue),
            contentType: fc.oneof(edgyString, anyValue),
          }),
          anyValue,
        ),
        fc.oneof(fc.constant(undefined), fc.constant(new Set(['x-death'])), hostile, anyValue),
      ),
    codes: ['INVALID_ARGUMENT'],
    names: () => ['replayOptions'],
    call: (_world, [message, reserved]) => replayOptions(message as never, reserved as never),
  },
];

/** True when `error` is an `MqError` (the check the harness makes first). */
export function isMqError(error: unknown): error is MqError {
  return MqErrorClass.isInstance(error);
}
