// mq's own cost per request/reply round trip, without any broker or socket: the memory backend, 100 in flight.
// `npx tsx --expose-gc src/rpc-memory.ts [count]` prints round trips per second and CPU µs per round trip.
import type { Backend, Queue } from '@mq/core';
import { waitForStatus } from '@mq/core';

const count = Number(process.argv[2] ?? 200_000);
const { memoryBackend } = (await import('@mq/memory')) as unknown as { memoryBackend: Backend };
const connection = memoryBackend.createConnection({ uri: 'memory://rpc-memory' });
connection.connect();
const open = async (options: Record<string, unknown>): Promise<Queue> => {
  const queue = memoryBackend.createQueue({ name: 'rpc', reliable: false, ...options } as never, connection);
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
await open({ isRecv: true, prefetch: 100 });
const client = await open({ isRecv: false });
const payload = Buffer.alloc(256, 7);
const run = async (n: number): Promise<number> => {
  let sent = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (sent < n) {
      sent += 1;
      await client.request(payload, { timeoutMillis: 30_000 });
    }
  };
  await Promise.all(Array.from({ length: 100 }, worker));
  return n / ((performance.now() - started) / 1000);
};
await run(count / 4);
for (let i = 0; i < 3; i += 1) {
  globalThis.gc?.();
  const cpu = process.cpuUsage();
  const perSec = await run(count);
  const used = process.cpuUsage(cpu);
  console.log(
    `memory: ${perSec.toFixed(0)} req/s, CPU ${((used.user + used.system) / count).toFixed(2)} µs per round trip`,
  );
}
await connection.close();
process.exit(0);
