import { AmqpConnection, AmqpQueue } from '@mq/amqp';
import { waitForStatus } from '@mq/core';

const conn = new AmqpConnection({ uri: process.env.AMQP_URL ?? 'amqp://guest:guest@localhost:5672/%2F' });
conn.on('error', (error) => console.warn(error.code, error.message)); // optional: never thrown if absent
conn.connect(); // returns at once; connects (and reconnects) in the background

const jobs = new AmqpQueue({ name: 'jobs', isRecv: true, reliable: true, prefetch: 10 }, conn);
const done = new Promise<void>((resolve) => {
  jobs.setMsgHandler(async (_queue, message) => {
    console.log(message.payload.toString());
    await message.ack(); // or message.nack() to have it delivered again
    if (message.payload.toString() === 'hello') resolve();
  });
});
jobs.connect();

const send = new AmqpQueue({ name: 'jobs', isRecv: false, reliable: true, persistent: true }, conn);
send.connect();
await waitForStatus(send, 'connected');
await send.sendMsg(Buffer.from('hello')); // resolves once RabbitMQ has confirmed it
await done;
await conn.close(); // closes the queues first, waiting for running handlers and in-flight sends
