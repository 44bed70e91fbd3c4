import { waitForStatus } from '@mq/core';
import { MemoryConnection, MemoryQueue } from '@mq/memory';

const conn = new MemoryConnection({ uri: 'memory://app' }); // an in-process broker: no server to run
conn.connect(); // returns at once; connects (and reconnects) in the background

const worker = new MemoryQueue({ name: 'greetings', isRecv: true, reliable: true }, conn);
const messages = worker.messages(); // connects the receiver

const out = new MemoryQueue({ name: 'greetings', isRecv: false, reliable: true }, conn);
out.connect();
await waitForStatus(out, 'connected');
await out.sendMsg(Buffer.from('hello')); // resolves once the broker has it

for await (const message of messages) {
  console.log(message.payload.toString()); // hello
  await message.ack();
  break; // closes the receiver
}
await conn.close(); // closes the queues first
