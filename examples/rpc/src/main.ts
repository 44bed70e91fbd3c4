// Request and reply: a price service answers the requests of two clients, each on a connection of its own.
// Every request waits for its own reply (a timeout and a signal bound the wait); the service settles each
// request after answering it, and a failure of its handler is retried as any message's would be.
// Runs on memory://, amqp:// (RabbitMQ direct reply-to) and mqtt:// (MQTT 5 response topics): MQ_URL.
import { amqpBackend } from '@mq/amqp';
import { type Connection, MqError, selectBackend, waitForStatus } from '@mq/core';
import { memoryBackend } from '@mq/memory';
import { mqttBackend } from '@mq/mqtt';

const uri = process.env.MQ_URL ?? 'memory://rpc-example';
const backend = selectBackend(uri, [amqpBackend, mqttBackend, memoryBackend]);
const name = 'mq-example.prices';
const PRICES: Record<string, number> = { 'A-1': 12.5, 'B-2': 7, 'C-3': 99.9 };
const connections: Connection[] = [];

function connect(): Connection {
  const connection = backend.createConnection({ uri });
  connection.on('error', (error) => console.error(`connection error: ${error.message}`));
  connection.connect();
  connections.push(connection);
  return connection;
}

// The service: one receiver, answering each request with the price, or with an error header.
const service = backend.createQueue({ name, isRecv: true, reliable: true, retryDelayMillis: 100 }, connect());
let served = 0;
service.setMsgHandler(async (_queue, message) => {
  const { sku } = JSON.parse(message.payload.toString()) as { sku: string };
  const price = PRICES[sku];
  await message.reply(
    Buffer.from(JSON.stringify(price === undefined ? { sku } : { sku, price })),
    price === undefined
      ? { contentType: 'application/json', headers: { error: 'unknown sku' } }
      : { contentType: 'application/json' },
  );
  await message.ack();
  served += 1;
});
service.on('error', (error) => console.error(`service: ${error.code} ${error.message}`));
service.connect();

const clients = [connect(), connect()].map((connection) =>
  backend.createQueue({ name, isRecv: false, reliable: true }, connection),
);
for (const client of clients) client.connect();
await Promise.all([service, ...clients].map((queue) => waitForStatus(queue, 'connected')));

// Both clients at once, several requests each in flight.
const asks = ['A-1', 'B-2', 'C-3', 'Z-9'];
const answers = await Promise.all(
  clients.flatMap((client, c) =>
    asks.map(async (sku) => {
      const reply = await client.request(Buffer.from(JSON.stringify({ sku })), { timeoutMillis: 5_000 });
      const body = JSON.parse(reply.payload.toString()) as { sku: string; price?: number };
      const said = reply.headers.error ?? `${body.price}`;
      return { client: c + 1, sku, ok: body.sku === sku, said };
    }),
  ),
);
for (const { client, sku, said } of answers) console.log(`client ${client}: ${sku} -> ${said}`);

// A caller that gives up: the request rejects ABORTED, and its late reply is dropped, not misdelivered.
const controller = new AbortController();
const abandoned = clients[0]?.request(Buffer.from('{"sku":"A-1"}'), { signal: controller.signal });
controller.abort();
const aborted = await abandoned?.then(
  () => false,
  (error: unknown) => MqError.hasCode(error, 'ABORTED'),
);

await Promise.all(connections.map((connection) => connection.close()));
const ok = answers.every((answer) => answer.ok) && aborted === true && served >= answers.length;
console.log(ok ? `all ${answers.length} requests answered, each to its own caller` : 'something went wrong');
process.exitCode = ok ? 0 : 1;
