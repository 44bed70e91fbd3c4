// Pub/sub fan-out on MQTT: three subscribers (broadcast receivers) each get every event a publisher sends.
// A subscriber that joins later only gets what is published after it joined.
import { waitForStatus } from '@mq/core';
import { MqttConnection, MqttQueue } from '@mq/mqtt';

const uri = process.env.MQTT_URL ?? 'mqtt://localhost';
const name = `mq-example.events-${process.pid}`;
const EVENTS = ['user.created', 'user.updated', 'user.deleted'];
const got: string[][] = [[], [], []];
const connections: MqttConnection[] = [];

function connect(): MqttConnection {
  const connection = new MqttConnection({ uri });
  connection.on('error', (error) => console.error(`connection error: ${error.message}`));
  connection.connect();
  connections.push(connection);
  return connection;
}

const subscribers = got.map((list) => {
  const subscriber = new MqttQueue({ name, isRecv: true, broadcast: true, reliable: true }, connect());
  subscriber.setMsgHandler(async (_queue, message) => {
    list.push(message.payload.toString());
    await message.ack();
  });
  subscriber.connect();
  return subscriber;
});
const publisher = new MqttQueue({ name, isRecv: false, broadcast: true, reliable: true }, connect());
publisher.connect();
await Promise.all([...subscribers, publisher].map((queue) => waitForStatus(queue, 'connected')));

for (const event of EVENTS) await publisher.sendMsg(Buffer.from(event));
const deadline = Date.now() + 10_000;
while (got.some((list) => list.length < EVENTS.length) && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 20));
}
for (const [i, list] of got.entries()) console.log(`subscriber ${i + 1} got: ${list.join(', ')}`);
await Promise.all(connections.map((connection) => connection.close()));
const ok = got.every((list) => list.length === EVENTS.length);
console.log(ok ? 'every subscriber got every event' : 'some events were missed');
process.exitCode = ok ? 0 : 1;
