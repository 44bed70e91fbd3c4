import { AmqpConnection, AmqpQueue } from '@mq/amqp';
import { waitForStatus } from '@mq/core';

const conn = new AmqpConnection({ uri: process.env.AMQP_URL ?? 'amqp://guest:guest@localhost:5672/%2F' });
conn.connect();

// #region declare
// The billing app declares its queue with the arguments production queues carry (each an x- argument).
const billing = new AmqpQueue(
  {
    name: 'mq-snippet.invoices',
    isRecv: false,
    reliable: true,
    maxLength: 10_000, // x-max-length
    overflow: 'reject-publish', // a send to a full queue rejects with REJECTED
    messageTtlMillis: 86_400_000, // x-message-ttl: a day
    deadLetterExchange: '', // x-dead-letter-exchange: RabbitMQ dead-letters expired invoices...
    deadLetterRoutingKey: 'mq-snippet.invoices.expired', // ...to the queue of this name (declare it too)
    queueArguments: { 'x-single-active-consumer': true }, // any other x- argument
  },
  conn,
);
// #endregion declare
billing.connect();
await waitForStatus(billing, 'connected');
await billing.sendMsg(Buffer.from('invoice 42'));

// #region attach
// Another app attaches to that queue as it is: mq only checks that it exists and declares nothing. A name that
// mq's pattern refuses ('Billing:Invoices', 'legacy/orders') is accepted here. Until the queue exists, the
// receiver reports one NOT_FOUND naming it and keeps retrying quietly.
const invoices = new AmqpQueue({ name: 'mq-snippet.invoices', isRecv: true, declare: false }, conn);
invoices.on('error', (error) => console.warn(error.code, error.message));
// #endregion attach
const got = new Promise<string>((resolve) => {
  invoices.setMsgHandler(async (_queue, message) => {
    await message.ack();
    resolve(message.payload.toString());
  });
});
invoices.connect();
console.log(`got ${await got}`);
await conn.close();
