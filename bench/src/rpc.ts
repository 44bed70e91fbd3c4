// Request/reply round trips (`pnpm bench --rpc`): mq's request() and message.reply() against plain amqplib with
// RabbitMQ direct reply-to and plain mqtt.js 5 with a response topic, each with its own server in this process,
// in the same run, alternating, several rounds. Reported as ratios: mq ÷ raw for throughput, raw ÷ mq for
// latency, so that 1 is parity and more is better in every column.
import { randomUUID } from 'node:crypto';
import type { Backend, Connection, Queue } from '@mq/core';
import { waitForStatus } from '@mq/core';
import * as amqp from 'amqplib';
import { connectAsync, type MqttClient } from 'mqtt';
import { deleteQueue } from './cleanup.js';
import { AMQP_URL, MQTT_URL } from './drivers/driver.js';
import { estimateMedian, type MedianEstimate } from './stats.js';

/** The broker a request/reply session runs on. */
export type Family = 'amqp' | 'mqtt';

/** One requester and its server, open for all rounds of a family, as an app keeps its connections. */
export interface RpcSession {
  request(payload: Buffer): Promise<Buffer>;
  close(): Promise<void>;
}

/** What one round measured. */
interface RoundResult {
  /** Round trips per second (100 in flight). */
  perSec: number;
  /** Median and 99th percentile round trip in milliseconds (1 in flight). */
  p50: number;
  p99: number;
}

/** Every request's payload: 256 B. */
export const PAYLOAD = Buffer.alloc(256, 7);

/**
 * Who runs one end of a round trip: the plain client, mq, or the plain client doing the broker work mq's features
 * ask for (`raw+`: requests expire after 30 s, as mq's do at their deadline; an AMQP server on a confirm channel,
 * as mq's receivers are), for `src/rpc-tail.ts`.
 */
export type Who = 'raw' | 'raw+' | 'mq';

/** mq's request deadline in this bench, which its requests carry as their expiration. */
const TIMEOUT_MILLIS = 30_000;

/** A server, answering every request on its queue until closed. */
interface RpcServer {
  close(): Promise<void>;
}

/** Plain amqplib: the server answers to `replyTo` with the `correlationId`. */
async function rawAmqpServer(name: string, who: Who): Promise<RpcServer> {
  const model = await amqp.connect(AMQP_URL, { noDelay: true });
  model.on('error', () => {});
  const server = who === 'raw+' ? await model.createConfirmChannel() : await model.createChannel();
  await server.assertQueue(name, { durable: true });
  await server.prefetch(100);
  await server.consume(name, (message) => {
    if (!message) return;
    server.sendToQueue(message.properties.replyTo, message.content, {
      correlationId: message.properties.correlationId,
    });
    server.ack(message);
  });
  return { close: () => model.close().catch(() => {}) };
}

/** Plain amqplib: the client consumes direct reply-to and matches replies by `correlationId`. */
async function rawAmqpClient(name: string, who: Who): Promise<RpcSession> {
  const expiration = who === 'raw+' ? { expiration: String(TIMEOUT_MILLIS) } : {};
  const model = await amqp.connect(AMQP_URL, { noDelay: true });
  model.on('error', () => {});
  const client = await model.createChannel();
  const waiting = new Map<string, (payload: Buffer) => void>();
  await client.consume(
    'amq.rabbitmq.reply-to',
    (message) => {
      if (!message) return;
      const id = String(message.properties.correlationId);
      waiting.get(id)?.(message.content);
      waiting.delete(id);
    },
    { noAck: true },
  );
  let next = 0;
  return {
    request(payload) {
      next += 1;
      const id = String(next);
      return new Promise<Buffer>((resolve) => {
        waiting.set(id, resolve);
        client.sendToQueue(name, payload, {
          replyTo: 'amq.rabbitmq.reply-to',
          correlationId: id,
          ...expiration,
        });
      });
    },
    close: () => model.close().catch(() => {}),
  };
}

const MQTT_OPTIONS = { protocolVersion: 5, clean: true, keepalive: 60, reconnectPeriod: 0 } as const;

/** Plain mqtt.js 5, with `TCP_NODELAY` as mq sets it. */
async function mqttClient(role: string): Promise<MqttClient> {
  const client = await connectAsync(MQTT_URL, {
    ...MQTT_OPTIONS,
    clientId: `rpc-raw-${role}-${randomUUID()}`,
  });
  (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  return client;
}

/** Plain mqtt.js 5: the server answers to the response topic with the correlation data. */
async function rawMqttServer(name: string, _who: Who): Promise<RpcServer> {
  const server = await mqttClient('s');
  server.on('message', (_topic, payload, packet) => {
    const { responseTopic, correlationData } = packet.properties ?? {};
    if (responseTopic === undefined) return;
    server.publish(responseTopic, payload, {
      qos: 0,
      properties: correlationData === undefined ? {} : { correlationData },
    });
  });
  await server.subscribeAsync(`$share/mq/${name}`, { qos: 0 });
  return { close: () => server.endAsync() };
}

/** Plain mqtt.js 5: the client subscribes to a response topic of its own and matches replies by correlation data. */
async function rawMqttClient(name: string, who: Who): Promise<RpcSession> {
  const expiry = who === 'raw+' ? { messageExpiryInterval: TIMEOUT_MILLIS / 1000 } : {};
  const client = await mqttClient('c');
  const responseTopic = `rpc-raw/replies/${randomUUID()}`;
  const waiting = new Map<string, (payload: Buffer) => void>();
  client.on('message', (_topic, payload, packet) => {
    const id = packet.properties?.correlationData?.toString();
    if (id === undefined) return;
    waiting.get(id)?.(payload);
    waiting.delete(id);
  });
  await client.subscribeAsync(responseTopic, { qos: 0 });
  let next = 0;
  return {
    request(payload) {
      next += 1;
      const id = String(next);
      return new Promise<Buffer>((resolve) => {
        waiting.set(id, resolve);
        client.publish(name, payload, {
          qos: 0,
          properties: { responseTopic, correlationData: Buffer.from(id), ...expiry },
        });
      });
    },
    close: () => client.endAsync(),
  };
}

/** mq's backend and broker address for `family`. */
async function mqBackend(family: Family): Promise<{ backend: Backend; uri: string }> {
  const backend = (
    family === 'amqp' ? (await import('@mq/amqp')).amqpBackend : (await import('@mq/mqtt')).mqttBackend
  ) as Backend;
  return { backend, uri: family === 'amqp' ? AMQP_URL : MQTT_URL };
}

/** One mq queue on a connection of its own (the queue not connected yet); `close()` closes the connection. */
function mqQueue(
  backend: Backend,
  uri: string,
  options: { name: string; isRecv: boolean },
): { queue: Queue; close(): Promise<void> } {
  const connection: Connection = backend.createConnection({ uri });
  connection.on('error', () => {});
  connection.connect();
  const queue = backend.createQueue(
    { reliable: false, ...options, ...(options.isRecv ? { prefetch: 100 } : {}) },
    connection,
  );
  queue.on('error', () => {});
  return {
    queue,
    close: () => connection.close(),
  };
}

/** mq's server on any backend at `uri`: a receiver that answers with `message.reply()`. */
export async function mqServerOn(backend: Backend, uri: string, name: string): Promise<RpcServer> {
  const { queue, close } = mqQueue(backend, uri, { name, isRecv: true });
  queue.setMsgHandler(async (_q, message) => {
    await message.reply(message.payload);
    await message.ack();
  });
  queue.connect();
  await waitForStatus(queue, 'connected', { timeoutMillis: 10_000 });
  return { close };
}

/** mq's client on any backend at `uri`: a sender that calls `request()`. */
export async function mqClientOn(backend: Backend, uri: string, name: string): Promise<RpcSession> {
  const { queue, close } = mqQueue(backend, uri, { name, isRecv: false });
  queue.connect();
  await waitForStatus(queue, 'connected', { timeoutMillis: 10_000 });
  return {
    async request(payload) {
      return (await queue.request(payload, { timeoutMillis: TIMEOUT_MILLIS })).payload;
    },
    close,
  };
}

/** A session of `asking` and the server `answering`: closing it closes the client, then the server. */
function joined(answering: RpcServer, asking: RpcSession): RpcSession {
  return {
    request: (payload) => asking.request(payload),
    async close() {
      await asking.close();
      await answering.close();
    },
  };
}

/** mq's request/reply session on any backend at `uri`: its server, then its client (`src/rpc-memory.ts`). */
export async function mqSessionOn(backend: Backend, uri: string, name: string): Promise<RpcSession> {
  const server = await mqServerOn(backend, uri, name);
  return joined(server, await mqClientOn(backend, uri, name));
}

/**
 * A client of `client` and a server of `server` on queue `name` of `family`'s broker, each on a connection of its
 * own (the server first, so that no request waits for it).
 */
export async function pairSession(
  family: Family,
  client: Who,
  server: Who,
  name: string,
): Promise<RpcSession> {
  const mq = client === 'mq' || server === 'mq' ? await mqBackend(family) : undefined;
  const rawServer = family === 'amqp' ? rawAmqpServer : rawMqttServer;
  const rawClient = family === 'amqp' ? rawAmqpClient : rawMqttClient;
  const answering =
    mq && server === 'mq' ? await mqServerOn(mq.backend, mq.uri, name) : await rawServer(name, server);
  const asking =
    mq && client === 'mq' ? await mqClientOn(mq.backend, mq.uri, name) : await rawClient(name, client);
  return joined(answering, asking);
}

/** The `q` quantile (0.99 for the p99) of `sorted`, ascending durations; NaN when empty. */
export function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** One round: `latencyCount` requests one at a time, then `throughputCount` with 100 in flight. */
async function round(
  session: RpcSession,
  latencyCount: number,
  throughputCount: number,
): Promise<RoundResult> {
  const times: number[] = [];
  for (let i = 0; i < latencyCount; i += 1) {
    const started = performance.now();
    await session.request(PAYLOAD);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return {
    perSec: await inFlight(session, throughputCount),
    p50: percentile(times, 0.5),
    p99: percentile(times, 0.99),
  };
}

/** `count` requests of 256 B with `width` in flight; resolves with round trips per second. */
export async function inFlight(session: RpcSession, count: number, width = 100): Promise<number> {
  let sent = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (sent < count) {
      sent += 1;
      await session.request(PAYLOAD);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return count / ((performance.now() - started) / 1000);
}

/**
 * Both sessions of a family, open, each on a fresh queue name of its own: each client's requests reach its own
 * server only (on one name, the two servers would share the queue or the MQTT share group, and each column would
 * measure half the other's server). Also for profiling one side alone (`node --cpu-prof --import tsx`).
 */
export async function openSessions(
  family: Family,
): Promise<{ raw: RpcSession; mq: RpcSession; names: string[] }> {
  const base = `mq-bench.rpc.${family}.${randomUUID().slice(0, 8)}`;
  const names = [`${base}.raw`, `${base}.mq`];
  const raw = await pairSession(family, 'raw', 'raw', names[0]!);
  return { raw, mq: await pairSession(family, 'mq', 'mq', names[1]!), names };
}

const fmt = (e: MedianEstimate): string =>
  `${e.median.toFixed(2)} (CI ${e.ci[0].toFixed(2)}-${e.ci[1].toFixed(2)})`;

/** Runs the request/reply rows for both families and prints them; resolves with the table. */
export async function rpcBench(options: { rounds: number; quick: boolean; only?: string }): Promise<string> {
  const latencyCount = options.quick ? 300 : 2_000;
  const throughputCount = options.quick ? 3_000 : 20_000;
  const lines = [
    '| request/reply, 256 B | raw p50 / p99 ms | mq p50 / p99 ms | p50 ratio (raw÷mq) | p99 ratio (raw÷mq) | raw / mq req/s | throughput ratio (mq÷raw) |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const family of ['amqp', 'mqtt'] as const) {
    if (options.only !== undefined && !family.includes(options.only)) continue;
    const { raw, mq, names } = await openSessions(family);
    const runs: Record<'raw' | 'mq', RoundResult[]> = { raw: [], mq: [] };
    try {
      // Warm-up, not measured: both paths JIT-compiled before anything counts.
      await round(raw, latencyCount / 4, throughputCount / 4);
      await round(mq, latencyCount / 4, throughputCount / 4);
      for (let r = 0; r < options.rounds; r += 1) {
        const order = r % 2 === 0 ? (['raw', 'mq'] as const) : (['mq', 'raw'] as const);
        for (const who of order) {
          globalThis.gc?.();
          runs[who].push(await round(who === 'raw' ? raw : mq, latencyCount, throughputCount));
        }
      }
    } finally {
      await mq.close();
      await raw.close();
      if (family === 'amqp') for (const name of names) await deleteQueue(name).catch(() => {});
    }
    const pair = (pick: (r: RoundResult) => number, mqOverRaw: boolean): MedianEstimate =>
      estimateMedian(
        runs.raw.map((raw, i) => {
          const mine = runs.mq[i] as RoundResult;
          return mqOverRaw ? pick(mine) / pick(raw) : pick(raw) / pick(mine);
        }),
      );
    const median = (who: 'raw' | 'mq', pick: (r: RoundResult) => number): number =>
      estimateMedian(runs[who].map(pick)).median;
    const line = `| ${family === 'amqp' ? 'AMQP: amqplib, direct reply-to' : 'MQTT 5: mqtt.js, response topic'} | ${median('raw', (r) => r.p50).toFixed(3)} / ${median('raw', (r) => r.p99).toFixed(3)} | ${median('mq', (r) => r.p50).toFixed(3)} / ${median('mq', (r) => r.p99).toFixed(3)} | ${fmt(pair((r) => r.p50, false))} | ${fmt(pair((r) => r.p99, false))} | ${median('raw', (r) => r.perSec).toFixed(0)} / ${median('mq', (r) => r.perSec).toFixed(0)} | ${fmt(pair((r) => r.perSec, true))} |`;
    console.log(line);
    lines.push(line);
  }
  return lines.join('\n');
}
