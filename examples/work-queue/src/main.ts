// A work queue on RabbitMQ: a producer queues 12 jobs; three workers, each allowed one unacked job at a time
// (prefetch 1), take them as they become free. Jobs are acked only after the work is done, so a worker that
// dies mid-job loses nothing: RabbitMQ gives its job to another worker.
import { AmqpConnection, AmqpQueue } from '@mq/amqp';
import { waitForStatus } from '@mq/core';

const uri = process.env.AMQP_URL ?? 'amqp://guest:guest@localhost';
// One durable queue for every run (no pile of queues on your broker); each job carries this run's tag, and a
// leftover from an interrupted earlier run is acked and ignored.
const name = 'mq-example.jobs';
const run = `${process.pid}-${Date.now().toString(36)}`;
const JOBS = 12;
const done: string[][] = [[], [], []];
const connections: AmqpConnection[] = [];

function connect(): AmqpConnection {
  const connection = new AmqpConnection({ uri });
  connection.on('error', (error) => console.error(`connection error: ${error.message}`));
  connection.connect();
  connections.push(connection);
  return connection;
}

const workers = done.map((list, i) => {
  const worker = new AmqpQueue({ name, isRecv: true, reliable: true, prefetch: 1 }, connect());
  worker.setMsgHandler(async (_queue, message) => {
    const [tag, job] = message.payload.toString().split(':');
    if (tag !== run || !job) {
      await message.ack();
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 10 + 15 * i)); // worker 3 is the slowest
    list.push(job);
    await message.ack();
  });
  worker.connect();
  return worker;
});
const producer = new AmqpQueue({ name, isRecv: false, reliable: true, persistent: true }, connect());
producer.connect();
await Promise.all([...workers, producer].map((queue) => waitForStatus(queue, 'connected')));

for (let i = 1; i <= JOBS; i += 1) await producer.sendMsg(Buffer.from(`${run}:job-${i}`));
console.log(`queued ${JOBS} persistent jobs on ${name}`);

const deadline = Date.now() + 15_000;
while (done.flat().length < JOBS && Date.now() < deadline)
  await new Promise((resolve) => setTimeout(resolve, 20));
for (const [i, list] of done.entries()) console.log(`worker ${i + 1} did ${list.length}: ${list.join(', ')}`);
await Promise.all(connections.map((connection) => connection.close()));
const ok = done.flat().length === JOBS;
console.log(ok ? `all ${JOBS} jobs done, each once` : `only ${done.flat().length} of ${JOBS} jobs done`);
process.exitCode = ok ? 0 : 1;
