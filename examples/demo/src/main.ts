// The mq demo: the same code on any backend, chosen by the MQ_URL scheme (in-process memory by default).
import { type Backend, type Message, MqError, type Queue, waitForStatus } from '@mq/core';
import { loadBackend } from './backends.js';

const uri = process.env.MQ_URL ?? 'memory://demo';
const run = Math.random().toString(36).slice(2, 8);
// Fixed queue names, so that runs against a real broker reuse the same durable queues instead of piling up new
// ones; each payload carries this run's tag, and a leftover from an interrupted earlier run is acked and ignored.
const tag = (text: string): Buffer => Buffer.from(`${run}:${text}`);
const untag = (payload: Buffer): string | undefined => {
  const text = payload.toString();
  return text.startsWith(`${run}:`) ? text.slice(run.length + 1) : undefined;
};
const WAIT_MILLIS = 10_000;
const opened: Array<{ close(): Promise<void> }> = [];

type Handler = (queue: Queue, message: Message) => Promise<void>;

/** Opens a queue on its own connection (the portable choice: MQTT wants one connection per queue). */
async function openQueue(
  backend: Backend,
  options: {
    name: string;
    isRecv: boolean;
    reliable?: boolean;
    broadcast?: boolean;
    retryDelayMillis?: number;
    maxDeliveries?: number;
    deadLetter?: string;
  },
  handler?: Handler,
): Promise<Queue> {
  const connection = backend.createConnection({ uri });
  opened.push(connection);
  connection.on('error', (error) => console.error(`  connection error: ${error.message}`));
  connection.connect();
  const queue = backend.createQueue({ ...options, ...(options.isRecv ? { prefetch: 10 } : {}) }, connection);
  queue.on('error', (error) => console.error(`  queue error: ${error.message}`));
  if (handler) queue.setMsgHandler(handler);
  queue.connect();
  await waitForStatus(queue, 'connected', { timeoutMillis: WAIT_MILLIS });
  return queue;
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MILLIS;
  while (!predicate()) {
    if (Date.now() > deadline) throw new MqError('TIMEOUT', `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function unicast(backend: Backend): Promise<void> {
  console.log('\n1. Unicast: one sender, three receivers; each message goes to exactly one of them');
  const name = 'mq-demo.jobs';
  const got: string[][] = [[], [], []];
  for (const list of got) {
    await openQueue(backend, { name, isRecv: true, reliable: true }, async (_q, m) => {
      const text = untag(m.payload);
      if (text) list.push(text);
      await m.ack();
    });
  }
  const sender = await openQueue(backend, { name, isRecv: false, reliable: true });
  for (let i = 1; i <= 9; i += 1) await sender.sendMsg(tag(`job-${i}`));
  await until(() => got.flat().length >= 9, '9 jobs');
  for (const [i, list] of got.entries())
    console.log(`   receiver ${i + 1} got: ${list.join(', ') || '(nothing)'}`);
  console.log(`   total ${got.flat().length} of 9, each once`);
}

async function broadcast(backend: Backend): Promise<void> {
  console.log('\n2. Broadcast: one sender, three receivers; every receiver gets every message');
  if (!backend.capabilities.broadcast) {
    console.log(`   skipped: ${backend.name} has no broadcast`);
    return;
  }
  const name = 'mq-demo.news';
  const got: string[][] = [[], [], []];
  for (const list of got) {
    await openQueue(backend, { name, isRecv: true, broadcast: true }, async (_q, m) => {
      const text = untag(m.payload);
      if (text) list.push(text);
      await m.ack();
    });
  }
  const sender = await openQueue(backend, { name, isRecv: false, broadcast: true });
  for (let i = 1; i <= 3; i += 1) await sender.sendMsg(tag(`news-${i}`));
  await until(() => got.every((list) => list.length >= 3), 'every receiver to get 3 messages');
  for (const [i, list] of got.entries()) console.log(`   receiver ${i + 1} got: ${list.join(', ')}`);
}

async function reliable(backend: Backend): Promise<void> {
  console.log(
    '\n3. Reliable send: the promise resolves once the broker has the message; the receiver acks it',
  );
  const name = 'mq-demo.orders';
  let acked = '';
  await openQueue(backend, { name, isRecv: true, reliable: true }, async (_q, m) => {
    await m.ack();
    acked = untag(m.payload) ?? acked;
  });
  const sender = await openQueue(backend, { name, isRecv: false, reliable: true });
  const started = performance.now();
  await sender.sendMsg(tag('order-42'));
  console.log(
    `   sendMsg resolved: the broker confirmed it in ${(performance.now() - started).toFixed(1)} ms`,
  );
  await until(() => acked !== '', 'the ack');
  console.log(`   receiver got ${acked} and acked it`);
}

async function nack(backend: Backend): Promise<void> {
  console.log('\n4. Nack: the receiver refuses the first delivery and asks for redelivery');
  const name = 'mq-demo.retries';
  const deliveries: string[] = [];
  await openQueue(backend, { name, isRecv: true, reliable: true }, async (_q, m) => {
    const text = untag(m.payload);
    const n = deliveries.length + 1;
    if (text && n === 1) {
      deliveries.push(`delivery ${n}: ${text} -> nack`);
      await m.nack();
      return;
    }
    if (text) deliveries.push(`delivery ${n}: ${text} -> ack`);
    await m.ack();
  });
  const sender = await openQueue(backend, { name, isRecv: false, reliable: true });
  await sender.sendMsg(tag('flaky-task'));
  if (!backend.capabilities.nackRequeue) {
    await until(() => deliveries.length >= 1, 'the delivery');
    console.log(`   ${deliveries[0]}`);
    console.log(
      `   ${backend.name} cannot requeue on nack (see its README): the message is not delivered again`,
    );
    return;
  }
  await until(() => deliveries.length >= 2, 'the redelivery');
  for (const line of deliveries) console.log(`   ${line}`);
}

async function failing(backend: Backend): Promise<void> {
  console.log('\n5. A failing handler: retried behind the others, then moved to a dead-letter queue');
  if (!backend.capabilities.deadLetter) {
    console.log(`   skipped: ${backend.name} has no dead-letter queues`);
    return;
  }
  const name = 'mq-demo.work';
  const dead = 'mq-demo.work.dead';
  const log: string[] = [];
  await openQueue(backend, { name: dead, isRecv: true, reliable: true }, async (_q, m) => {
    const text = untag(m.payload);
    const { headers } = m;
    if (text) {
      log.push(
        `dead-letter queue got ${text} from ${headers['mq-dead-letter-from']} after ${headers['mq-dead-letter-deliveries']} deliveries: ${headers['mq-dead-letter-error']}`,
      );
    }
    await m.ack();
  });
  const options = {
    name,
    isRecv: true,
    reliable: true,
    retryDelayMillis: 200,
    maxDeliveries: 3,
    deadLetter: dead,
  };
  await openQueue(backend, options, async (_q, m) => {
    const text = untag(m.payload);
    if (text === 'bad-job') {
      log.push(`bad-job, delivery ${(m.deliveryCount ?? 0) + 1}: the handler throws`);
      throw new Error('cannot parse bad-job');
    }
    if (text) log.push(`${text}: done`);
    await m.ack();
  });
  const sender = await openQueue(backend, { name, isRecv: false, reliable: true });
  for (const job of ['bad-job', 'good-job-1', 'good-job-2']) await sender.sendMsg(tag(job));
  await until(() => log.some((line) => line.startsWith('dead-letter queue got')), 'the dead letter');
  for (const line of log) console.log(`   ${line}`);
}

async function main(): Promise<void> {
  const backend = await loadBackend(uri);
  console.log(`mq demo on ${backend.name} (MQ_URL=${uri.replace(/\/\/[^@/]*@/, '//***@')})`);
  try {
    await unicast(backend);
    await broadcast(backend);
    await reliable(backend);
    await nack(backend);
    await failing(backend);
  } finally {
    await Promise.allSettled(opened.map((c) => c.close()));
  }
  console.log('\nDone: every step worked.');
}

main().catch((error: unknown) => {
  console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
