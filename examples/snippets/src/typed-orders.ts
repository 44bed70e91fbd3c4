import { AmqpConnection, AmqpQueue } from '@mq/amqp';
import { MQ_HEADERS, MqError, waitForStatus } from '@mq/core';
import * as amqp from 'amqplib';
import { z } from 'zod';

// Typed orders end to end with a zod schema on RabbitMQ, and a malformed order from a plain amqplib client
// dead-lettered once (AMQP_URL).
const url = process.env.AMQP_URL ?? 'amqp://guest:guest@localhost:5672/%2F';
const conn = new AmqpConnection({ uri: url });
conn.connect();

// #region schema
const Order = z.object({
  id: z.number().int(),
  item: z.string().min(1),
  quantity: z.number().int().positive(),
});

// The body type is inferred from the schema: AmqpQueue<{ id: number; item: string; quantity: number }>.
const orders = new AmqpQueue(
  { name: 'example.orders', isRecv: false, reliable: true, codec: 'json', schema: Order },
  conn,
);
const worker = new AmqpQueue(
  {
    name: 'example.orders',
    isRecv: true,
    reliable: true,
    codec: 'json',
    schema: Order, // checked before the handler runs
    deadLetter: 'example.orders.invalid', // where what fails to decode or validate goes, at once
    concurrency: 4, // at most 4 handlers at once (prefetch stays 100)
    orderingKey: (message) => String(message.body.id), // one order's messages one at a time, in order
  },
  conn,
);
worker.setMsgHandler(async (_queue, message) => {
  const order = message.body; // typed and validated
  console.log(`order ${order.id}: ${order.quantity} x ${order.item}`);
  await message.ack();
});
// #endregion schema

let seen: () => void = () => {};
const deadLettered = new Promise<void>((resolve) => {
  seen = resolve;
});
const invalid = new AmqpQueue({ name: 'example.orders.invalid', isRecv: true, reliable: true }, conn);
// #region invalid
worker.on('error', (error) => console.log(`worker: ${error.code}`)); // INVALID_PAYLOAD, naming the message
invalid.setMsgHandler(async (_queue, message) => {
  const why = message.headers[MQ_HEADERS.deadLetterError] ?? '';
  console.log(`dead letter ${message.messageId}: ${why.slice(0, why.indexOf(':'))}`);
  await message.ack();
  seen();
});
// #endregion invalid
for (const queue of [worker, invalid, orders]) queue.connect();
await Promise.all([worker, invalid, orders].map((queue) => waitForStatus(queue, 'connected')));

// #region send
await orders.sendMsg({ id: 1, item: 'tea', quantity: 2 });
try {
  await orders.sendMsg({ id: 2, item: '', quantity: 0 }); // refused here: nothing is sent
} catch (error) {
  if (MqError.hasCode(error, 'INVALID_ARGUMENT')) console.log(`refused: ${error.issues?.length} issues`);
}
// #endregion send

// #region plain
// A plain AMQP client (no mq) publishes a truncated order.
const plain = await amqp.connect(url);
const channel = await plain.createConfirmChannel();
channel.sendToQueue('example.orders', Buffer.from('{"id": 3, "item": "cake"'), {
  contentType: 'application/json',
  messageId: 'broken-3',
});
await channel.waitForConfirms();
await plain.close();
// #endregion plain

await deadLettered;
await conn.close();
