import type { Backend } from '@mq/core';
import { waitForStatus } from '@mq/core';
import { deleteQueue } from './cleanup.js';
import { AMQP_URL, MQTT_URL } from './drivers/driver.js';
import { makePayload } from './payload.js';
import { SendWindow } from './window.js';

function isBackend(value: unknown): value is Backend {
  return typeof value === 'object' && value !== null && 'spiVersion' in value && 'createQueue' in value;
}

const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);

async function through(backend: Backend, uri: string, total: number): Promise<void> {
  const name = `mq-soak.${process.pid}-${backend.name.replace(/\W/g, '')}`;
  const recvConn = backend.createConnection({ uri });
  const sendConn = backend.createConnection({ uri });
  for (const c of [recvConn, sendConn]) {
    c.on('error', () => {});
    c.connect();
  }
  let received = 0;
  const recv = backend.createQueue({ name, isRecv: true, reliable: true, prefetch: 100 }, recvConn);
  recv.setMsgHandler((_q, message) => {
    received += 1;
    return message.ack();
  });
  recv.connect();
  const send = backend.createQueue({ name, isRecv: false, reliable: true }, sendConn);
  send.connect();
  await waitForStatus(recv, 'connected');
  await waitForStatus(send, 'connected');
  const samples: number[] = [];
  // The heap after a full collection beside RSS: RSS keeps pages a collection freed, so only a heap that keeps
  // growing is a leak.
  const heaps: number[] = [];
  let failed = 0;
  const window = new SendWindow(100);
  const started = performance.now();
  for (let seq = 0; seq < total; seq += 1) {
    await window.add(send.sendMsg(makePayload(256, seq)), () => {
      failed += 1;
    });
    if (seq % (total / 10) === 0) {
      (globalThis as { gc?: () => void }).gc?.();
      samples.push(process.memoryUsage.rss());
      heaps.push(process.memoryUsage().heapUsed);
    }
  }
  await window.drain();
  const deadline = performance.now() + 30_000;
  while (received < total - failed && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  (globalThis as { gc?: () => void }).gc?.();
  samples.push(process.memoryUsage.rss());
  heaps.push(process.memoryUsage().heapUsed);
  const seconds = (performance.now() - started) / 1000;
  await Promise.allSettled([sendConn.close(), recvConn.close()]);
  if (uri === AMQP_URL) await deleteQueue(name).catch(() => {});
  const first = samples[1] ?? samples[0]!;
  console.log(
    `${backend.name}: ${total} reliable messages in ${seconds.toFixed(0)} s (${failed} sends failed, ${received} received); RSS at 10%..100%: ${samples.slice(1).map(mib).join(', ')} MiB; growth after 10%: ${mib(Math.max(...samples.slice(1)) - first)} MiB; heap after GC at 10%..100%: ${heaps.slice(1).map(mib).join(', ')} MiB`,
  );
}

async function unreachable(backend: Backend, scheme: string, seconds: number): Promise<void> {
  const conn = backend.createConnection({ uri: `${scheme}://127.0.0.1:1`, reconnectMillis: 100 });
  conn.on('error', () => {});
  conn.connect();
  const send = backend.createQueue({ name: 'mq-soak.unreachable', isRecv: false, reliable: true }, conn);
  send.connect();
  const start = process.memoryUsage.rss();
  let attempts = 0;
  let rejected = 0;
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    for (let i = 0; i < 1000; i += 1) {
      attempts += 1;
      await send.sendMsg(makePayload(256, i)).catch(() => {
        rejected += 1;
      });
    }
  }
  const growth = process.memoryUsage.rss() - start;
  await conn.close();
  console.log(
    `${backend.name}: ${attempts} sends while unreachable, ${rejected} rejected at once; RSS growth ${mib(growth)} MiB`,
  );
}

/**
 * `--soak N`: N messages through each backend (or those whose scheme contains `only`), watching RSS and the
 * heap; then sends against an unreachable broker.
 */
export async function soak(total: number, only = ''): Promise<void> {
  const backends = [
    ['@mq/amqp', AMQP_URL, 'amqp'],
    ['@mq/mqtt', MQTT_URL, 'mqtt'],
  ] as const;
  for (const [pkg, uri, scheme] of backends.filter(([, , s]) => s.includes(only))) {
    const module = (await import(pkg)) as Record<string, unknown>;
    const backend = Object.values(module).find(isBackend);
    if (!backend) throw new Error(`${pkg} exports no backend`);
    await through(backend, uri, total);
    await unreachable(backend, scheme, 5);
  }
}
