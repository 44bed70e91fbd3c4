import { waitForStatus } from '@mq/core';
import { MemoryConnection, MemoryQueue } from '@mq/memory';

const conn = new MemoryConnection({ uri: 'memory://demo' });
conn.connect();

const recv = new MemoryQueue({ name: 'jobs', isRecv: true, reliable: true, prefetch: 10 }, conn);
const handled = new Promise<void>((resolve) => {
  recv.setMsgHandler(async (_queue, message) => {
    console.log(message.payload.toString()); // hello
    await message.ack();
    resolve();
  });
});
recv.connect();

const send = new MemoryQueue({ name: 'jobs', isRecv: false, reliable: true }, conn);
send.connect();
await waitForStatus(send, 'connected', { timeoutMillis: 5000 });
await send.sendMsg(Buffer.from('hello'));
await handled; // delivery is asynchronous, as over a network
await conn.close(); // closes the queues first
