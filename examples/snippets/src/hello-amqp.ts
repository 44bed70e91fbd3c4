import { AmqpConnection, AmqpQueue } from '@mq/amqp';
import { waitForStatus } from '@mq/core';

const conn = new AmqpConnection({ uri: process.env.AMQP_URL ?? 'amqp://guest:guest@localhost:5672' });
conn.on('error', (error) => console.warn(error.code, error.message)); // never thrown when nobody listens
conn.connect();

const out = new AmqpQueue({ name: 'greetings', isRecv: false, reliable: true, persistent: true }, conn);
out.connect();
await waitForStatus(out, 'connected');
await out.sendMsg(Buffer.from('hello')); // resolves once RabbitMQ confirmed it; kept until a receiver comes

const worker = new AmqpQueue({ name: 'greetings', isRecv: true, reliable: true }, conn);
for await (const message of worker.messages()) {
  console.log(message.payload.toString()); // hello
  await message.ack(); // or nack(): RabbitMQ delivers it again
  break;
}
await conn.close();
