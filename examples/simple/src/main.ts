// The general-mq example on mq: one receiver and one sender of the queue `hello`, five messages, then exit.
// AMQP (RabbitMQ) by default; set RUN_MQTT=1 for MQTT (Mosquitto). Override the broker with AMQP_URL / MQTT_URL.
import { AmqpConnection, AmqpQueue } from '@mq/amqp';
import { type Connection, type Queue, waitForStatus } from '@mq/core';
import { MqttConnection, MqttQueue } from '@mq/mqtt';

const useMqtt = Boolean(process.env.RUN_MQTT);

/** One connection per queue: the portable rule (MQTT needs it when one program sends and receives a name). */
function open(isRecv: boolean): { connection: Connection; queue: Queue } {
  const options = { name: 'hello', isRecv, reliable: true, broadcast: false };
  if (useMqtt) {
    const connection = new MqttConnection({ uri: process.env.MQTT_URL ?? 'mqtt://localhost' });
    return { connection, queue: new MqttQueue(options, connection) };
  }
  const connection = new AmqpConnection({ uri: process.env.AMQP_URL ?? 'amqp://guest:guest@localhost' });
  return {
    connection,
    queue: new AmqpQueue({ ...options, ...(isRecv ? { prefetch: 10 } : {}) }, connection),
  };
}

const receiver = open(true);
const sender = open(false);
for (const { connection, queue } of [receiver, sender]) {
  connection.on('status', (status) => console.log(`connection: ${status}`));
  connection.on('error', (error) => console.error(`connection error: ${error.message}`));
  queue.on('status', (status) =>
    console.log(`queue ${queue.name} (${queue.isRecv ? 'receiver' : 'sender'}): ${status}`),
  );
  queue.on('error', (error) => console.error(`queue error: ${error.message}`));
}

let received = 0;
receiver.queue.setMsgHandler(async (_queue, message) => {
  received += 1;
  console.log(`received: ${message.payload.toString()}`);
  await message.ack();
});

for (const { connection, queue } of [receiver, sender]) {
  connection.connect();
  queue.connect();
}
await waitForStatus(receiver.queue, 'connected');
await waitForStatus(sender.queue, 'connected');

for (let i = 1; i <= 5; i += 1) {
  await sender.queue.sendMsg(Buffer.from(`hello ${i} from ${useMqtt ? 'MQTT' : 'AMQP'}`));
  console.log(`sent: hello ${i}`);
}
const deadline = Date.now() + 10_000;
while (received < 5 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
await Promise.all([receiver.connection.close(), sender.connection.close()]);
console.log(received === 5 ? 'all 5 messages received' : `only ${received} of 5 received`);
process.exitCode = received === 5 ? 0 : 1;
