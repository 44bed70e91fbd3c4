import { amqpBackend } from '@mq/amqp';
import { MqError, selectBackend, waitForStatus } from '@mq/core';
import { memoryBackend } from '@mq/memory';
import { mqttBackend } from '@mq/mqtt';

// A price service answering requests. Runs on memory://, amqp:// and mqtt:// (MQTT 5) alike (MQ_URL).
const uri = process.env.MQ_URL ?? 'memory://request-reply';
const backend = selectBackend(uri, [amqpBackend, mqttBackend, memoryBackend]);
const conn = backend.createConnection({ uri });
conn.connect();

// #region server
const server = backend.createQueue({ name: 'example.prices', isRecv: true }, conn);
server.setMsgHandler(async (_queue, message) => {
  const { sku } = JSON.parse(message.payload.toString()) as { sku: string };
  // To the request's replyTo, with its correlation id; resolves once sent.
  await message.reply(Buffer.from(JSON.stringify({ sku, price: 42 })), { contentType: 'application/json' });
  await message.ack(); // the request is settled as any message: after the reply
});
server.connect();
// #endregion server
await waitForStatus(server, 'connected');

// #region client
const client = backend.createQueue({ name: 'example.prices', isRecv: false }, conn);
client.connect();
await waitForStatus(client, 'connected');
const reply = await client.request(Buffer.from(JSON.stringify({ sku: 'A-1' })), { timeoutMillis: 5_000 });
console.log(reply.contentType, reply.payload.toString()); // application/json {"sku":"A-1","price":42}

const controller = new AbortController();
const pending = client.request(Buffer.from('{"sku":"B-2"}'), { signal: controller.signal });
controller.abort(); // the caller gave up: its reply, when it comes, is dropped (client.droppedReplies)
try {
  await pending;
} catch (error) {
  if (MqError.hasCode(error, 'ABORTED')) console.log('aborted');
  else throw error;
}
// #endregion client
await conn.close();
