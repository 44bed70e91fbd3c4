import { redisBackend } from '@acme/mq-redis';
import { waitForStatus } from '@mq/core';

const connection = redisBackend.createConnection({ uri: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
connection.connect();

const worker = redisBackend.createQueue({ name: 'jobs', isRecv: true, reliable: true }, connection);
const done = new Promise<void>((resolve) => {
  worker.setMsgHandler(async (_queue, message) => {
    console.log(message.payload.toString());
    await message.ack();
    if (message.payload.toString() === 'hello') resolve();
  });
});
worker.connect();

const jobs = redisBackend.createQueue({ name: 'jobs', isRecv: false, reliable: true }, connection);
jobs.connect();
await waitForStatus(jobs, 'connected');
await jobs.sendMsg(Buffer.from('hello'));
await done;
await connection.close();
