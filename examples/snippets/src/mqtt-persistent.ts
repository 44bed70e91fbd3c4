import { waitForStatus } from '@mq/core';
import { MqttConnection, MqttQueue } from '@mq/mqtt';

const uri = process.env.MQTT_URL ?? 'mqtt://localhost:1883';

/** A worker process: its connection keeps one persistent session, so it gets what was sent while it was away. */
async function startWorker(): Promise<{ conn: MqttConnection; got: Promise<string> }> {
  // #region readme
  const conn = new MqttConnection({ uri, clientId: 'billing-worker-1', cleanSession: false });
  // #endregion readme
  conn.connect();
  const invoices = new MqttQueue({ name: 'invoices', isRecv: true, reliable: true }, conn);
  const got = new Promise<string>((resolve) => {
    invoices.setMsgHandler(async (_queue, message) => {
      await message.ack();
      resolve(message.payload.toString());
    });
  });
  invoices.connect();
  await waitForStatus(invoices, 'connected');
  return { conn, got };
}

const first = await startWorker();
await first.conn.close(); // the worker stops; the broker keeps its session and subscription

const billing = new MqttConnection({ uri });
billing.connect();
const send = new MqttQueue({ name: 'invoices', isRecv: false, reliable: true }, billing);
send.connect();
await waitForStatus(send, 'connected');
await send.sendMsg(Buffer.from('invoice 42')); // sent while the worker is away
await billing.close();

const again = await startWorker(); // the same clientId comes back
console.log(`got while away: ${await again.got}`);
await again.conn.close();

// Ending the session for good: connect once with the same clientId and a clean session.
const end = new MqttConnection({ uri, clientId: 'billing-worker-1', cleanSession: true });
end.connect();
await waitForStatus(end, 'connected');
await end.close();
