import { AmqpConnection, AmqpQueue } from '@mq/amqp';
import { waitForStatus } from '@mq/core';

// In production: one URI per cluster node. Here: a node that is down (nothing listens on port 1), then ours.
const nodes = (
  process.env.AMQP_NODES ?? 'amqp://guest:guest@127.0.0.1:1,amqp://guest:guest@localhost:5672'
).split(',');
const [rabbit1 = '', rabbit2 = ''] = nodes;
// #region readme
const conn = new AmqpConnection({
  uri: [rabbit1, rabbit2], // ['amqp://app:secret@rabbit-1', 'amqp://app:secret@rabbit-2', 'amqp://app:secret@rabbit-3']
  reconnectMillis: 200,
});
const jobs = new AmqpQueue(
  { name: 'mq-snippet.cluster-jobs', isRecv: false, reliable: true, queueType: 'quorum' },
  conn,
);
// #endregion readme
conn.on('error', (error) => console.log(`error ${error.code}`));
conn.connect();
jobs.connect();
await waitForStatus(jobs, 'connected');
await jobs.sendMsg(Buffer.from('job 1'));
console.log(`sent on ${conn.address === conn.addresses[1] ? 'the second node' : String(conn.address)}`);

// A worker takes the job (the durable queue stays, empty).
const worker = new AmqpQueue({ name: 'mq-snippet.cluster-jobs', isRecv: true, queueType: 'quorum' }, conn);
const got = new Promise<string>((resolve) => {
  worker.setMsgHandler(async (_queue, message) => {
    await message.ack();
    resolve(message.payload.toString());
  });
});
worker.connect();
console.log(`worker got ${await got}`);
await conn.close();
