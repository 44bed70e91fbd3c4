import { waitForStatus } from '@mq/core';
import { MqttConnection, MqttQueue } from '@mq/mqtt';

const conn = new MqttConnection({ uri: process.env.MQTT_URL ?? 'mqtt://localhost:1883' }); // MQTT 5
conn.on('error', (error) => console.warn(error.code, error.message));
conn.connect();

const worker = new MqttQueue({ name: 'greetings', isRecv: true, reliable: true }, conn);
const messages = worker.messages();
await waitForStatus(worker, 'connected'); // MQTT keeps nothing for a topic nobody has subscribed to

const out = new MqttQueue({ name: 'greetings', isRecv: false, reliable: true }, conn);
out.connect();
await waitForStatus(out, 'connected');
await out.sendMsg(Buffer.from('hello')); // resolves on the broker's PUBACK

for await (const message of messages) {
  console.log(message.payload.toString()); // hello
  await message.ack(); // the PUBACK goes out now, not before
  break;
}
await conn.close();
