import { subscribe, tracingChannel } from 'node:diagnostics_channel';
import { AmqpConnection, AmqpQueue } from '@mq/amqp';
import { type Connection, ERROR_CHANNEL, MqError, type Queue, STATUS_CHANNEL, waitForStatus } from '@mq/core';
import { MqttConnection, MqttQueue } from '@mq/mqtt';
import { MqInstrumentation } from '@mq/otel';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { inspectHits, secretPaths } from './secret-walk.js';

// Run by secrets.test.ts in a child process with every debug switch on (DEBUG=*, NODE_DEBUG=*): connects to
// throwaway brokers with wrong and right credentials and TLS keys, holds everything a user can reach (connections,
// queues, messages, events, diagnostics channel messages, OpenTelemetry spans and metrics), and walks all of it for
// the secrets. It prints what it found as one `MQ-SECRETS-RESULT {json}` line, never a secret itself; the parent
// also searches the whole output (the debug logs) for them.

/** What the parent hands over on stdin. */
export interface SecretsPlan {
  /** Per backend: a URI with the right password (TLS), and one with a wrong password (plain TCP). */
  readonly amqp: { readonly tlsUri: string; readonly wrongUri: string; readonly plainUri: string };
  readonly mqtt: { readonly tlsUri: string; readonly wrongUri: string; readonly plainUri: string };
  /** PEM texts: the CA, the client certificate, its encrypted key, and the key's passphrase. */
  readonly tls: {
    readonly ca: string;
    readonly cert: string;
    readonly key: string;
    readonly passphrase: string;
  };
  /** Every secret and its encodings, by name. */
  readonly secrets: Readonly<Record<string, string>>;
}

/** What the child reports. */
export interface SecretsResult {
  /** Secrets found, by object: `{ 'amqp connection': { passphrase: ['root.x.y'] } }`. */
  readonly found: Record<string, Record<string, string[] | number>>;
  /** What happened on each backend, to check the scenario ran. */
  readonly outcomes: Record<string, string>;
  /** How many objects were walked. */
  readonly walked: number;
}

/** A metric reader the child collects from by hand. */
class Reader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** The plan, read whole from stdin. */
async function readPlan(): Promise<SecretsPlan> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as SecretsPlan;
}

const plan = await readPlan();
const exporter = new InMemorySpanExporter();
const reader = new Reader();
registerInstrumentations({
  instrumentations: [new MqInstrumentation() as never],
  tracerProvider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  meterProvider: new MeterProvider({ readers: [reader] }),
});

/** Every message of every mq diagnostics channel. */
const channelMessages: unknown[] = [];
subscribe(STATUS_CHANNEL.name, (message) => channelMessages.push(message));
subscribe(ERROR_CHANNEL.name, (message) => channelMessages.push(message));
for (const name of ['mq:send', 'mq:process']) {
  const record = (message: unknown): void => {
    channelMessages.push(message);
  };
  tracingChannel(name).subscribe({
    start: record,
    end: record,
    asyncStart: record,
    asyncEnd: record,
    error: record,
  });
}

const found: SecretsResult['found'] = {};
const outcomes: Record<string, string> = {};
let walked = 0;

/** Looks for every secret in `value`, through paths and through inspect's text. */
function walk(what: string, value: unknown): void {
  walked += 1;
  const paths = secretPaths(value, plan.secrets);
  const hits = inspectHits(value, plan.secrets);
  if (Object.keys(paths).length > 0 || Object.keys(hits).length > 0) {
    found[what] = {
      ...paths,
      ...Object.fromEntries(Object.entries(hits).map(([k, v]) => [`inspect ${k}`, v])),
    };
  }
}

/** Resolves with the first error `source` emits, or `undefined` after `millis`. */
function firstError(source: Connection, millis: number): Promise<MqError | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), millis);
    source.once('error', (error) => {
      clearTimeout(timer);
      resolve(error);
    });
  });
}

interface BackendParts {
  connection(options: Record<string, unknown>): Connection;
  queue(options: Record<string, unknown>, connection: Connection): Queue;
}

async function scenario(label: 'amqp' | 'mqtt', parts: BackendParts): Promise<void> {
  const uris = plan[label];
  const errors: MqError[] = [];
  // A wrong password: refused, reported, and the error shows none of it.
  const wrong = parts.connection({ uri: uris.wrongUri, reconnectMillis: 200 });
  const refused = firstError(wrong, 10_000);
  wrong.on('error', (error) => errors.push(error));
  wrong.connect();
  outcomes[`${label} wrong password`] = (await refused)?.code ?? 'no error';
  walk(`${label} connection with a wrong password`, wrong);
  await wrong.close();
  // A wrong TLS key passphrase: refused by the constructor.
  try {
    parts.connection({ uri: uris.tlsUri, tls: { ...plan.tls, passphrase: `not-${plan.tls.passphrase}` } });
    outcomes[`${label} wrong passphrase`] = 'accepted';
  } catch (error) {
    outcomes[`${label} wrong passphrase`] = MqError.isInstance(error) ? error.code : String(error);
    walk(`${label} wrong passphrase error`, error);
  }
  // Right credentials over mutual TLS, and over plain TCP: a message each way, held while connected.
  for (const [how, options] of [
    ['tls', { uri: uris.tlsUri, tls: plan.tls }],
    ['plain', { uri: uris.plainUri }],
  ] as const) {
    const connection = parts.connection(options);
    connection.on('error', (error) => errors.push(error));
    connection.connect();
    await waitForStatus(connection, 'connected', { timeoutMillis: 15_000 });
    const name = `mq-secrets.${label}-${how}-${process.pid}`;
    let received: unknown;
    const receiver = parts.queue({ name, isRecv: true, reliable: true, broadcast: true }, connection);
    const got = new Promise<void>((resolve) => {
      receiver.on('error', (error) => errors.push(error));
      receiver.setMsgHandler(async (_queue, message) => {
        received = message;
        await message.ack();
        resolve();
      });
    });
    receiver.connect();
    const sender = parts.queue({ name, isRecv: false, reliable: true, broadcast: true }, connection);
    sender.on('error', (error) => errors.push(error));
    sender.connect();
    await Promise.all([
      waitForStatus(receiver, 'connected', { timeoutMillis: 15_000 }),
      waitForStatus(sender, 'connected', { timeoutMillis: 15_000 }),
    ]);
    walk(`${label} ${how} receiver`, receiver);
    // Subscribed: the first message arrives; a few more are sent only if the broker was slow to route it.
    for (let i = 0; i < 50 && received === undefined; i += 1) {
      await sender.sendMsg(Buffer.from('hello'), { headers: { kind: 'greeting' }, messageId: `m${i}` });
      await Promise.race([got, new Promise((resolve) => setTimeout(resolve, 200))]);
    }
    outcomes[`${label} ${how}`] = received === undefined ? 'nothing received' : 'received';
    walk(`${label} ${how} connection`, connection);
    walk(`${label} ${how} sender`, sender);
    walk(`${label} ${how} received message`, received);
    await connection.close();
  }
  walk(`${label} error events`, errors);
}

try {
  await scenario('amqp', {
    connection: (options) => new AmqpConnection(options),
    queue: (options, connection) => new AmqpQueue(options as never, connection as AmqpConnection),
  });
  await scenario('mqtt', {
    connection: (options) => new MqttConnection(options),
    queue: (options, connection) => new MqttQueue(options as never, connection as MqttConnection),
  });
  walk('diagnostics channel messages', channelMessages);
  walk('OpenTelemetry spans', exporter.getFinishedSpans());
  walk('OpenTelemetry metrics', (await reader.collect()).resourceMetrics);
  outcomes.spans = String(exporter.getFinishedSpans().length);
  outcomes['channel messages'] = String(channelMessages.length);
} catch (error) {
  outcomes.failed = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
const result: SecretsResult = { found, outcomes, walked };
console.log(`MQ-SECRETS-RESULT ${JSON.stringify(result)}`);
