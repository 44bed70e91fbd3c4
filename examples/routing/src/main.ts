// Topic routing: 50 simulated devices each publish a temperature and a humidity reading under the topic space
// `mq-example.sensors` (`<space>/<device>/<kind>`), and one mq subscriber takes every temperature with the pattern
// `*.temperature`, whatever the device. The broker is MQ_URL's: the in-process one by default (the devices are
// mq senders there), `mqtt://...` (each device a plain mqtt.js client, as real devices would be) or `amqp://...`
// (the devices are mq topic senders on RabbitMQ's topic exchange of that name).

import { amqpBackend } from '@mq/amqp';
import { type Backend, type Message, type Queue, selectBackend, waitForStatus } from '@mq/core';
import { memoryBackend } from '@mq/memory';
import { mqttBackend } from '@mq/mqtt';
import { connectAsync, type MqttClient } from 'mqtt';

const uri = process.env.MQ_URL || 'memory://sensors';
const SPACE = 'mq-example.sensors';
const DEVICES = 50;
const WAIT_MILLIS = 15_000;
// A fixed space (a durable exchange and group queue on RabbitMQ are reused, not piled up); each reading carries
// this run's tag, and what an interrupted earlier run left in the group's queue is acked and ignored.
const run = Math.random().toString(36).slice(2, 8);
const closing: Array<() => Promise<unknown>> = [];

const backend: Backend = selectBackend(uri, [memoryBackend, amqpBackend, mqttBackend]);
console.log(`${backend.name} serves ${uri}`);

/** A connected queue of `backend` on a connection of its own (MQTT wants one per receiver). */
async function open(
  options: Record<string, unknown> & { name: string; isRecv: boolean },
  handler?: (m: Message) => Promise<void>,
): Promise<Queue> {
  const connection = backend.createConnection({ uri });
  closing.push(() => connection.close());
  connection.on('error', (error) => console.error(`connection error: ${error.message}`));
  connection.connect();
  const queue = backend.createQueue(options, connection);
  queue.on('error', (error) => console.error(`queue error: ${error.message}`));
  if (handler) queue.setMsgHandler((_queue, message) => handler(message));
  queue.connect();
  await waitForStatus(queue, 'connected', { timeoutMillis: WAIT_MILLIS });
  return queue;
}

// The subscriber: every temperature of every device; the receivers of group `ingest` would share them.
const temperatures = new Map<string, string>();
let others = 0;
await open(
  { name: SPACE, isRecv: true, reliable: true, routing: 'topic', topics: ['*.temperature'], group: 'ingest' },
  async (message) => {
    const [tag, value] = message.payload.toString().split(' ');
    if (tag === run) {
      if (message.topic?.endsWith('.temperature')) temperatures.set(message.topic, value ?? '');
      else others += 1;
    }
    await message.ack();
  },
);

/** Publishes one device's readings: `kind` -> value. */
type Device = (kind: string, value: string) => Promise<void>;

async function plainMqttDevice(id: string): Promise<Device> {
  // What a device's firmware does: plain MQTT, no mq, one topic level per word.
  const client: MqttClient = await connectAsync(uri, {
    clientId: `${SPACE}-${run}-${id}`,
    reconnectPeriod: 0,
  });
  closing.push(() => client.endAsync());
  return async (kind, value) => {
    await client.publishAsync(`${SPACE}/${id}/${kind}`, `${run} ${value}`, { qos: 1 });
  };
}

async function mqDevice(id: string): Promise<Device> {
  const sender = await open({ name: SPACE, isRecv: false, reliable: true, routing: 'topic' });
  return (kind, value) => sender.sendMsg(Buffer.from(`${run} ${value}`), { topic: `${id}.${kind}` });
}

const ids = Array.from({ length: DEVICES }, (_, i) => `d${i + 1}`);
const devices = await Promise.all(
  ids.map((id) => (backend === mqttBackend ? plainMqttDevice(id) : mqDevice(id))),
);
await Promise.all(
  devices.map(async (publish, i) => {
    await publish('humidity', String(40 + (i % 20)));
    await publish('temperature', (18 + (i % 7) * 0.5).toFixed(1));
  }),
);
console.log(`${DEVICES} devices published a humidity and a temperature reading each`);

const deadline = Date.now() + WAIT_MILLIS;
while (temperatures.size < DEVICES && Date.now() < deadline)
  await new Promise((resolve) => setTimeout(resolve, 20));
console.log(
  `the *.temperature subscriber got ${temperatures.size} temperatures (d1: ${temperatures.get('d1.temperature')}) and ${others} other readings`,
);

for (const close of closing.reverse()) await close().catch(() => {});
const ok = temperatures.size === DEVICES && others === 0;
console.log(
  ok ? 'every temperature arrived once, and nothing else' : 'some readings were missed or misrouted',
);
process.exitCode = ok ? 0 : 1;
