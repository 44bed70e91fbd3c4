// mq's own cost per request/reply round trip, without any broker or socket: the memory backend, 100 in flight.
// `npx tsx --expose-gc src/rpc-memory.ts [count]` prints round trips per second and CPU µs per round trip.
import type { Backend } from '@mq/core';
import { inFlight, mqSessionOn } from './rpc.js';

const count = Number(process.argv[2] ?? 200_000);
const { memoryBackend } = (await import('@mq/memory')) as unknown as { memoryBackend: Backend };
const session = await mqSessionOn(memoryBackend, 'memory://rpc-memory', 'rpc');
await inFlight(session, count / 4);
for (let i = 0; i < 3; i += 1) {
  globalThis.gc?.();
  const cpu = process.cpuUsage();
  const perSec = await inFlight(session, count);
  const used = process.cpuUsage(cpu);
  console.log(
    `memory: ${perSec.toFixed(0)} req/s, CPU ${((used.user + used.system) / count).toFixed(2)} µs per round trip`,
  );
}
await session.close();
process.exit(0);
