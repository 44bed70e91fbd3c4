// Profiles one side of the request/reply bench alone: `node --cpu-prof --expose-gc --import tsx
// src/rpc-profile.ts <amqp|mqtt> <raw|mq> [count] [in flight]` runs `count` round trips with 100 (or `in flight`)
// in flight after a warm-up.
import { deleteQueue } from './cleanup.js';
import { countSocketIo, ioSnapshot } from './io-count.js';
import { inFlight, openSessions } from './rpc.js';

// IO=1: also socket writes and reads per round trip, all sockets of the side together.
if (process.env.IO) countSocketIo();
const family = process.argv[2] === 'mqtt' ? 'mqtt' : 'amqp';
const who = process.argv[3] === 'raw' ? 'raw' : 'mq';
const count = Number(process.argv[4] ?? 30_000);
const width = Number(process.argv[5] ?? 100);
const sessions = await openSessions(family);
const session = sessions[who];
await inFlight(session, count / 4, width);
const before = ioSnapshot();
const cpu = process.cpuUsage();
const perSec = await inFlight(session, count, width);
const used = process.cpuUsage(cpu);
console.log(
  `${family} ${who}, ${width} in flight: ${perSec.toFixed(0)} req/s, CPU ${((used.user + used.system) / count).toFixed(1)} µs per round trip${process.env.IO ? io(before) : ''}`,
);

function io(from: Map<unknown, { writes: number; reads: number }>): string {
  let writes = 0;
  let reads = 0;
  for (const [socket, now] of ioSnapshot()) {
    writes += now.writes - (from.get(socket)?.writes ?? 0);
    reads += now.reads - (from.get(socket)?.reads ?? 0);
  }
  return `, ${(writes / count).toFixed(2)} writes and ${(reads / count).toFixed(2)} reads per round trip`;
}
await sessions.raw.close();
await sessions.mq.close();
if (family === 'amqp') for (const name of sessions.names) await deleteQueue(name).catch(() => {});
process.exit(0);
