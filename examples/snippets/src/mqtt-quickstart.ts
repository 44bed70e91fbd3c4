import { waitForStatus } from '@mq/core';
import { MqttConnection, MqttQueue } from '@mq/mqtt';

const conn = new MqttConnection({ uri: process.env.MQTT_URL ?? 'mqtt://localhost:1883' });
conn.on('error', (error) => console.error(error.code, error.message));
conn.connect();

const jobs = new MqttQueue({ name: 'jobs', isRecv: true, reliable: true }, conn);
const done = new Promise<void>((resolve) => {
  jobs.setMsgHandler(async (_queue, message) => {
    console.log(message.payload.toString());
    await message.ack(); // the PUBACK goes out now, not before
    resolve();
  });
});
jobs.connect();
// MQTT keeps nothing for a topic nobody subscribes to: wait for the receiver before sending.
await waitForStatus(jobs, 'connected');

const out = new MqttQueue({ name: 'jobs', isRecv: false, reliable: true }, conn); // same connection, or another
out.connect();
await waitForStatus(out, 'connected');
await out.sendMsg(Buffer.from('hello')); // resolves on the broker's PUBACK
await done;
await conn.close();
