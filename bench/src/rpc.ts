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

type Family = 'amqp' | 'mqtt';

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

const PAYLOAD = Buffer.alloc(256, 7);

/** Plain amqplib: the server answers to `replyTo` with the `correlationId`; the client consumes direct reply-to. */
async function rawAmqp(name: string): Promise<RpcSession> {
  const serverModel = await amqp.connect(AMQP_URL, { noDelay: true });
  const clientModel = await amqp.connect(AMQP_URL, { noDelay: true });
  for (const model of [serverModel, clientModel]) model.on('error', () => {});
  const server = await serverModel.createChannel();
  await server.assertQueue(name, { durable: true });
  await server.prefetch(100);
  await server.consume(name, (message) => {
    if (!message) return;
    server.sendToQueue(message.properties.replyTo, message.content, {
      correlationId: message.properties.correlationId,
    });
    server.ack(message);
  });
  const client = await clientModel.createChannel();
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
        client.sendToQueue(name, payload, { replyTo: 'amq.rabbitmq.reply-to', correlationId: id });
      });
    },
    async close() {
      await clientModel.close().catch(() => {});
      await serverModel.close().catch(() => {});
    },
  };
}

/** Plain mqtt.js 5: the server answers to the response topic with the correlation data. */
async function rawMqtt(name: string): Promise<RpcSession> {
  const options = { protocolVersion: 5, clean: true, keepalive: 60, reconnectPeriod: 0 } as const;
  const server: MqttClient = await connectAsync(MQTT_URL, {
    ...options,
    clientId: `rpc-raw-s-${randomUUID()}`,
  });
  const client: MqttClient = await connectAsync(MQTT_URL, {
    ...options,
    clientId: `rpc-raw-c-${randomUUID()}`,
  });
  for (const one of [server, client])
    (one.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  server.on('message', (_topic, payload, packet) => {
    const { responseTopic, correlationData } = packet.properties ?? {};
    if (responseTopic === undefined) return;
    server.publish(responseTopic, payload, {
      qos: 0,
      properties: correlationData === undefined ? {} : { correlationData },
    });
  });
  await server.subscribeAsync(`$share/mq/${name}`, { qos: 0 });
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
          properties: { responseTopic, correlationData: Buffer.from(id) },
        });
      });
    },
    async close() {
      await client.endAsync();
      await server.endAsync();
    },
  };
}

/** mq on either backend: a receiver that answers with `message.reply()`, a sender that calls `request()`. */
async function mqSession(family: Family, name: string): Promise<RpcSession> {
  const uri = family === 'amqp' ? AMQP_URL : MQTT_URL;
  const backend = (
    family === 'amqp' ? (await import('@mq/amqp')).amqpBackend : (await import('@mq/mqtt')).mqttBackend
  ) as Backend;
  return mqSessionOn(backend, uri, name);
}

/** mq's request/reply session on any backend at `uri`: the receiver and the sender each on a connection of its own. */
export async function mqSessionOn(backend: Backend, uri: string, name: string): Promise<RpcSession> {
  const connections: Connection[] = [];
  const open = async (options: { isRecv: boolean }): Promise<Queue> => {
    const connection = backend.createConnection({ uri });
    connection.on('error', () => {});
    connections.push(connection);
    connection.connect();
    const queue = backend.createQueue(
      { name, reliable: false, ...options, ...(options.isRecv ? { prefetch: 100 } : {}) },
      connection,
    );
    queue.on('error', () => {});
    if (options.isRecv) {
      queue.setMsgHandler(async (_q, message) => {
        await message.reply(message.payload);
        await message.ack();
      });
    }
    queue.connect();
    await waitForStatus(queue, 'connected', { timeoutMillis: 10_000 });
    return queue;
  };
  await open({ isRecv: true });
  const client = await open({ isRecv: false });
  return {
    async request(payload) {
      return (await client.request(payload, { timeoutMillis: 30_000 })).payload;
    },
    async close() {
      await Promise.allSettled(connections.map((connection) => connection.close()));
    },
  };
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
  const at = (q: number): number => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? NaN;
  return { perSec: await inFlight(session, throughputCount), p50: at(0.5), p99: at(0.99) };
}

/** `count` requests of 256 B with 100 in flight; resolves with round trips per second. */
export async function inFlight(session: RpcSession, count: number): Promise<number> {
  let sent = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (sent < count) {
      sent += 1;
      await session.request(PAYLOAD);
    }
  };
  await Promise.all(Array.from({ length: 100 }, worker));
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
  const raw = family === 'amqp' ? await rawAmqp(names[0]!) : await rawMqtt(names[0]!);
  return { raw, mq: await mqSession(family, names[1]!), names };
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
