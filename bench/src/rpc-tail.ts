// Where request/reply's slow round trips go (the p99 of `--rpc`): `npx tsx --expose-gc src/rpc-tail.ts <amqp|mqtt>
// [rounds] [untraced]` runs five client → server pairs (raw → raw, raw → mq, mq → raw, mq → mq, and raw+ → raw+:
// raw doing the broker work mq's features ask for, see `Who`), each on a queue of its own, 2,000 requests one at a
// time per round, alternating, and prints per pair: round trips over 1 ms, p99, the process's CPU per round trip,
// garbage collections, and for each slow round trip the stretch that took longest (from the socket reads and writes
// of the pair's client and server, timed in this process).
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { PerformanceObserver } from 'node:perf_hooks';
import { deleteQueue } from './cleanup.js';
import { onSocketIo } from './io-count.js';
import { type Family, PAYLOAD, pairSession, percentile, type RpcSession, type Who } from './rpc.js';
import { estimateMedian } from './stats.js';

const family: Family = process.argv[2] === 'mqtt' ? 'mqtt' : 'amqp';
const rounds = Number(process.argv[3] ?? 6);
const COUNT = 2_000;

/** One socket event: when, which socket, a write (`w`) or a chunk read (`r`). */
type SocketEvent = [at: number, socket: Socket, kind: 'w' | 'r'];
let events: SocketEvent[] = [];
// `untraced`: no socket timing, so that the CPU column is the clients' alone (the stretches then stay empty).
const traced = process.argv[4] !== 'untraced';
if (traced) {
  onSocketIo((socket, kind) => {
    events.push([performance.now(), socket, kind === 'write' ? 'w' : 'r']);
  });
}

let collections = 0;
new PerformanceObserver((list) => {
  collections += list.getEntries().length;
}).observe({ entryTypes: ['gc'] });

/** A pair, its client's socket (the first to write for a request) and what its rounds measured. */
interface Pair {
  label: string;
  name: string;
  session: RpcSession;
  client: Socket | undefined;
  over: number[];
  p99: number[];
  cpu: number[];
  collections: number[];
  stretches: Map<string, number>;
}

/** The stretch between two events of a round trip, named by who had the message meanwhile. */
function stretch(pair: Pair, from: SocketEvent | 'start', to: SocketEvent | 'end'): string {
  if (from === 'start') return 'client, before its write';
  if (to === 'end') return 'client, after its read';
  const [, fromSocket, fromKind] = from;
  const [, toSocket, toKind] = to;
  const fromClient = fromSocket === pair.client;
  if (toSocket === pair.client && toKind === 'r') return 'broker, to the client';
  if (fromClient && fromKind === 'w' && toKind === 'r') return 'broker, to the server';
  if (!fromClient && fromKind === 'r' && toKind === 'w') return 'server';
  // An AMQP confirm channel's server: the broker confirms its reply before the reply reaches the client.
  if (!fromClient && fromKind === 'w' && toKind === 'r') return "broker, confirming the server's reply";
  return 'client, between its writes and reads';
}

const base = `mq-bench.rpc-tail.${family}.${randomUUID().slice(0, 8)}`;
const pairs: Pair[] = [];
for (const [client, server] of [
  ['raw', 'raw'],
  ['raw', 'mq'],
  ['mq', 'raw'],
  ['mq', 'mq'],
  ['raw+', 'raw+'],
] as Array<[Who, Who]>) {
  const name = `${base}.${client}-${server}`.replaceAll('+', 'plus'); // `+` is an MQTT wildcard
  const session = await pairSession(family, client, server, name);
  for (let i = 0; i < COUNT / 4; i += 1) await session.request(PAYLOAD);
  events = [];
  await session.request(PAYLOAD);
  const client0 = events.find(([, , kind]) => kind === 'w')?.[1];
  pairs.push({
    label: `${client} → ${server}`,
    name,
    session,
    client: client0,
    over: [],
    p99: [],
    cpu: [],
    collections: [],
    stretches: new Map(),
  });
}

for (let round = 0; round < rounds; round += 1) {
  const order = round % 2 === 0 ? pairs : [...pairs].reverse();
  for (const pair of order) {
    globalThis.gc?.();
    await new Promise((resolve) => setImmediate(resolve));
    const collectionsBefore = collections;
    const cpu = process.cpuUsage();
    const times: number[] = [];
    for (let i = 0; i < COUNT; i += 1) {
      events = [];
      const started = performance.now();
      await pair.session.request(PAYLOAD);
      const ended = performance.now();
      times.push(ended - started);
      if (!traced || ended - started <= 1) continue;
      const points: Array<SocketEvent | 'start' | 'end'> = ['start', ...events, 'end'];
      const at = (point: SocketEvent | 'start' | 'end'): number =>
        point === 'start' ? started : point === 'end' ? ended : point[0];
      let longest = 1;
      for (let j = 2; j < points.length; j += 1) {
        if (at(points[j]!) - at(points[j - 1]!) > at(points[longest]!) - at(points[longest - 1]!))
          longest = j;
      }
      const named = stretch(
        pair,
        points[longest - 1] as SocketEvent | 'start',
        points[longest] as SocketEvent | 'end',
      );
      pair.stretches.set(named, (pair.stretches.get(named) ?? 0) + 1);
    }
    const used = process.cpuUsage(cpu);
    times.sort((a, b) => a - b);
    pair.over.push(times.filter((t) => t > 1).length);
    pair.p99.push(percentile(times, 0.99));
    pair.cpu.push((used.user + used.system) / COUNT);
    pair.collections.push(collections - collectionsBefore);
  }
}

const median = (values: number[]): number => estimateMedian(values).median;
console.log(
  `${family}, ${rounds} rounds of ${COUNT} requests one at a time (medians over rounds; stretches summed over all slow round trips)`,
);
for (const pair of pairs) {
  const stretches = [...pair.stretches]
    .sort((a, b) => b[1] - a[1])
    .map(([name, count]) => `${name} ${count}`)
    .join(', ');
  console.log(
    `${pair.label.padEnd(10)} over 1 ms ${String(median(pair.over)).padStart(3)}  p99 ${median(pair.p99).toFixed(2)} ms  CPU ${median(pair.cpu).toFixed(0)} µs  GCs ${median(pair.collections)}  longest: ${stretches}`,
  );
}
for (const pair of pairs) await pair.session.close();
if (family === 'amqp') for (const pair of pairs) await deleteQueue(pair.name).catch(() => {});
process.exit(0);
