import { waitForStatus } from '@mq/core';
import { MemoryConnection, MemoryQueue } from '@mq/memory';

const conn = new MemoryConnection({ uri: 'memory://shop' });
conn.connect();

// Every order created, in any region; the receivers of group billing share them.
const billing = new MemoryQueue(
  { name: 'orders', isRecv: true, reliable: true, routing: 'topic', topics: ['*.created'], group: 'billing' },
  conn,
);
const created = billing.messages();
await waitForStatus(billing, 'connected'); // bound: from now on the group keeps what matches

const orders = new MemoryQueue({ name: 'orders', isRecv: false, reliable: true, routing: 'topic' }, conn);
orders.connect();
await waitForStatus(orders, 'connected');
await orders.sendMsg(Buffer.from('order 1'), { topic: 'eu.created' });
await orders.sendMsg(Buffer.from('order 1'), { topic: 'eu.shipped' }); // matches no pattern of billing
await orders.sendMsg(Buffer.from('order 2'), { topic: 'us.created' });

let seen = 0;
for await (const message of created) {
  console.log(`${message.topic}: ${message.payload}`); // eu.created: order 1, then us.created: order 2
  await message.ack();
  if (++seen === 2) break;
}
await conn.close();
