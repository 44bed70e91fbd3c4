import { type Connection, type Queue, waitForStatus } from '@mq/core';
import { createTestCertificates, opensslMissing, type TestCertificates, uniqueId } from '@mq/testkit';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeWithin, ENTRY_POINTS, type EntryPoint, isMqError, type World } from './entry-points.js';
import { materialize, SECRETS } from './hostile-values.js';
import { TARGETS } from './targets.js';

// Every public entry point that takes input (entry-points.ts), fuzzed on memory, RabbitMQ and Mosquitto: any
// input works or throws/rejects an MqError of an expected code naming the field; never a crash, a hang, an
// unhandled rejection, a half-created resource, or a secret in a message. Seeded and bounded for `npm test`;
// `MQ_FUZZ_RUNS=2000 pnpm test:fuzz` runs longer, `MQ_FUZZ_SEED` picks another seed.

/** Runs per entry point and backend. */
const RUNS = Number(process.env.MQ_FUZZ_RUNS ?? 100);
/** The seed: the same inputs every run unless asked otherwise (fast-check prints it with any counterexample). */
const SEED = Number(process.env.MQ_FUZZ_SEED ?? 26_2612);
/** How long one call may take to settle (a bounded close of what it made included). */
const CALL_MILLIS = 15_000;

const missing = opensslMissing();
let pki: TestCertificates | undefined;

beforeAll(async () => {
  if (missing === undefined) pki = await createTestCertificates();
});
afterAll(() => pki?.dispose());

/** What a call did: returned (or resolved), threw (or rejected), or neither in time. */
type Outcome = { kind: 'worked'; value: unknown } | { kind: 'refused'; error: unknown } | { kind: 'hung' };

async function outcomeOf(action: () => unknown, millis: number): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'hung' }), millis);
  });
  const settled = (async (): Promise<Outcome> => {
    try {
      return { kind: 'worked', value: await action() };
    } catch (error) {
      return { kind: 'refused', error };
    }
  })();
  try {
    return await Promise.race([settled, hung]);
  } finally {
    clearTimeout(timer);
  }
}

/** Every secret an input may carry. */
function secrets(): string[] {
  return [SECRETS.password, SECRETS.passphrase, ...(pki ? [pki.clientKeyPassphrase] : [])];
}

/** The messages of `error` and of every `cause` below it. */
function messagesOf(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth += 1) {
    parts.push(current.message);
    current = current.cause;
  }
  return parts.join(' <- ');
}

/** Fails unless `error` is an MqError of one of `entry`'s codes, from a package, naming one of its names. */
function checkRefusal(entry: EntryPoint, world: World, error: unknown): void {
  if (!isMqError(error)) {
    throw new Error(`${entry.name} threw a ${kindOf(error)} instead of an MqError: ${messagesOf(error)}`);
  }
  if (!entry.codes.includes(error.code)) {
    throw new Error(
      `${entry.name} refused with ${error.code}, expected one of ${entry.codes.join(', ')}: ${error.message}`,
    );
  }
  if (!/^\[mq\/[a-z]+\] /.test(error.message)) throw new Error(`no package named in: ${error.message}`);
  const names = entry.names(world);
  if (!names.some((name) => error.message.includes(name))) {
    throw new Error(`${entry.name}: the refusal names none of ${names.join(', ')}: ${error.message}`);
  }
  checkNoSecret(messagesOf(error), `${entry.name}'s refusal`);
}

function checkNoSecret(text: string, where: string): void {
  for (const secret of secrets()) {
    if (text.includes(secret)) throw new Error(`${where} shows a secret: ${text}`);
  }
}

function kindOf(value: unknown): string {
  return value instanceof Error ? value.constructor.name : typeof value;
}

/** The kinds of active handles and requests (sockets, timers), to compare before and after a property. */
function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

/** Waits until no kind of resource outnumbers `baseline` (what the property made is gone), or fails. */
async function noneLeftBeyond(baseline: Map<string, number>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const now = activeResources();
    const extra = [...now].filter(([kind, count]) => count > (baseline.get(kind) ?? 0) && kind !== 'Timeout');
    // Timers: a closed connection's or queue's are cleared; vitest's own come and go, so they are compared apart.
    const timers = (now.get('Timeout') ?? 0) - (baseline.get('Timeout') ?? 0);
    if (extra.length === 0 && timers <= 2) return;
    if (Date.now() > deadline) {
      throw new Error(`${what} left resources behind: ${JSON.stringify([...extra, ['Timeout', timers]])}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * What a compromised dependency could put on `Object.prototype`: every option name mq reads, each with a value
 * that would change something if it were ever read as inherited (TLS checks off, a receiver, metadata, ...).
 */
const POLLUTION: Readonly<Record<string, unknown>> = {
  uri: 'amqp://polluted:1',
  connectTimeoutMillis: 1,
  reconnectMillis: 'polluted',
  reconnectMaxMillis: -1,
  tls: { rejectUnauthorized: false },
  rejectUnauthorized: false,
  ca: 'polluted',
  servername: 'polluted.example',
  passphrase: 'polluted',
  heartbeatSeconds: -1,
  connectionName: 42,
  authMechanism: 'EXTERNAL',
  clientId: '',
  cleanSession: false,
  protocolVersion: 3,
  sessionExpirySeconds: -1,
  receiveMaximum: 0,
  keepaliveSeconds: -1,
  name: 'polluted',
  isRecv: true,
  reliable: 'yes',
  broadcast: true,
  sendTimeoutMillis: 0,
  sendBufferMessages: -1,
  sendBufferBytes: -1,
  closeTimeoutMillis: 0,
  prefetch: 0,
  retryDelayMillis: -1,
  maxDeliveries: 1,
  deadLetter: 'polluted',
  ackTimeoutMillis: 0,
  persistent: 'yes',
  queueType: 'quorum',
  deliveryLimit: 0,
  sharedPrefix: 42,
  headers: { polluted: '1' },
  messageId: 'polluted',
  correlationId: 'polluted',
  contentType: 'polluted',
  expirationMillis: 1,
  signal: AbortSignal.abort(),
  timeoutMillis: -1,
  schemes: ['polluted'],
};

/** Runs `action` with {@link POLLUTION} on `Object.prototype`, and always takes it off again. */
function polluted<T>(action: () => T): T {
  const proto = Object.prototype as Record<string, unknown>;
  for (const [name, value] of Object.entries(POLLUTION)) proto[name] = value;
  try {
    return action();
  } finally {
    for (const name of Object.keys(POLLUTION)) delete proto[name];
  }
}

/** What a synchronous call made, or what it threw. */
type Answer = { made: unknown } | { thrown: unknown };

function answer(action: () => unknown): Answer {
  try {
    return { made: action() };
  } catch (error) {
    return { thrown: error };
  }
}

/**
 * An answer, comparable across calls: the refusal, or what was made (random ids left out). Read with a clean
 * `Object.prototype`: what it made may read inherited names as any object does.
 */
function fingerprint(given: Answer): unknown {
  if ('thrown' in given) {
    const error = given.thrown;
    return {
      refused: isMqError(error)
        ? `${error.code} ${error.message}`
        : `a ${kindOf(error)}: ${messagesOf(error)}`,
    };
  }
  const shown = given.made as { settings?: unknown; options?: unknown; name?: unknown } | undefined;
  const what = Object.hasOwn(Object(shown), 'settings')
    ? shown?.settings
    : Object.hasOwn(Object(shown), 'options')
      ? shown?.options
      : given.made;
  try {
    return {
      worked: JSON.stringify(what, (key, value) =>
        key === 'clientId' ? undefined : typeof value === 'bigint' ? `${value}n` : value,
      ),
    };
  } catch (error) {
    // What was made holds something that cannot be serialised (a revoked proxy passed through): compare that.
    return { worked: `unserialisable: ${messagesOf(error)}` };
  }
}

/** Unhandled rejections anywhere in this file's process: there must be none. */
const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

for (const target of TARGETS) {
  describe.skipIf(missing !== undefined)(
    `${target.label}: any input to a public entry point works or is an MqError naming the field${missing ? ` (skipped: ${missing})` : ''}`,
    () => {
      let world: World;
      let receiver: Queue;

      beforeAll(async () => {
        const connection: Connection = target.newConnection({ uri: target.uri() });
        connection.connect();
        await waitForStatus(connection, 'connected');
        const name = `mq-fuzz.${uniqueId('world')}`;
        receiver = target.newQueue({ name, isRecv: true, broadcast: true, reliable: true }, connection);
        receiver.setMsgHandler((_queue, message) => message.ack());
        receiver.connect();
        const sender = target.newQueue({ name, isRecv: false, broadcast: true, reliable: true }, connection);
        sender.connect();
        await Promise.all([waitForStatus(receiver, 'connected'), waitForStatus(sender, 'connected')]);
        const cert = pki as TestCertificates;
        world = {
          target,
          connection,
          sender,
          pem: {
            ca: cert.ca.pem,
            cert: cert.clientCert.pem,
            key: cert.clientKey.pem,
            passphrase: cert.clientKeyPassphrase,
          },
          connectBudget: 0,
          seenErrors: [],
        };
        for (const source of [connection, receiver, sender])
          source.on('error', (error) => world.seenErrors.push(error));
      });

      afterAll(async () => {
        // Every send settled (a rejected one left nothing in flight): the close does not wait for any.
        if (world) await closeWithin(world.connection, 5000, `the ${target.label} connection`);
      });

      const entries = ENTRY_POINTS.filter((entry) => entry.scope === 'each' || target.label === 'memory');
      for (const entry of entries) {
        it(`${entry.name}`, async () => {
          world.connectBudget = 8;
          const baseline = activeResources();
          await fc.assert(
            fc.asyncProperty(entry.input(world), async (raw) => {
              const args = raw.map(materialize);
              const outcome = await outcomeOf(() => entry.call(world, args), CALL_MILLIS);
              if (outcome.kind === 'hung')
                throw new Error(`${entry.name} did not settle within ${CALL_MILLIS} ms`);
              if (outcome.kind === 'refused') {
                checkRefusal(entry, world, outcome.error);
                return;
              }
              const after = await outcomeOf(
                () => entry.afterSuccess?.(world, outcome.value, args),
                CALL_MILLIS,
              );
              if (after.kind === 'hung') throw new Error(`using what ${entry.name} made did not end in time`);
              if (after.kind === 'refused') throw after.error;
            }),
            { seed: SEED, numRuns: RUNS },
          );
          // What was made is closed: no socket or timer is left.
          await noneLeftBeyond(baseline, entry.name);
          for (const error of world.seenErrors) checkNoSecret(messagesOf(error), 'an error event');
          expect(unhandled).toEqual([]);
        }, 240_000);
      }

      for (const entry of entries.filter((one) => one.synchronous)) {
        it(`${entry.name}, with a polluted Object.prototype, answers as without it`, async () => {
          await fc.assert(
            fc.asyncProperty(entry.input(world), async (raw) => {
              const clean = fingerprint(answer(() => entry.call(world, raw.map(materialize))));
              const args = raw.map(materialize);
              expect(fingerprint(polluted(() => answer(() => entry.call(world, args))))).toEqual(clean);
            }),
            { seed: SEED, numRuns: RUNS },
          );
        });
      }
    },
  );
}
