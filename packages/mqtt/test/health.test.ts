import { type MosquittoBroker, mosquittoMissing, startMosquitto } from '@mq/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connection, queueName, receiver, sender, until } from './helpers.js';

describe('health() on Mosquitto', () => {
  it('says a receiver is attached once its subscription is granted, counts sends and ages deliveries', async () => {
    const name = queueName('health');
    const conn = await connection();
    const { queue, inbox } = await receiver(conn, { name, reliable: true });
    expect(queue.health()).toMatchObject({ isRecv: true, status: 'connected', attached: true });
    expect(queue.health().lastDeliveryAgeMillis).toBeUndefined();
    const send = await sender(conn, { name, reliable: true });
    const sends = Array.from({ length: 20 }, (_, i) => send.sendMsg(Buffer.from(`m${i}`)));
    expect(send.health().sendsInFlight).toBeGreaterThan(0);
    await Promise.all(sends);
    expect(send.health()).toMatchObject({ attached: undefined, sendsInFlight: 0 });
    // Attached means the broker routes to it: everything sent arrives.
    await until(() => inbox.texts.length === 20, 'the 20 messages');
    expect(queue.health().lastDeliveryAgeMillis).toBeLessThan(10_000);
    expect(conn.health()).toMatchObject({ status: 'connected', linkUp: true });
    expect(conn.health().queues).toHaveLength(2);
    await queue.close();
    expect(queue.health()).toMatchObject({ status: 'closed', attached: false });
  });
});

// Restarts a broker: a Mosquitto of this file's own, never the shared one.
const missing = mosquittoMissing();
describe.skipIf(missing !== undefined)(
  `health() across a Mosquitto restart${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    let broker: MosquittoBroker | undefined;
    beforeAll(async () => {
      broker = await startMosquitto({ persistence: true });
    }, 60_000);
    afterAll(() => broker?.dispose(), 60_000);

    it('goes down (link down, receiver not attached) while the broker is stopped and up again after', async () => {
      const own = broker as MosquittoBroker;
      const conn = await connection({ uri: own.url, reconnectMillis: 100, reconnectMaxMillis: 200 });
      const { queue } = await receiver(conn, { name: queueName('health-restart'), reliable: true });
      expect(queue.health().attached).toBe(true);
      await own.stop();
      await until(() => !conn.health().linkUp, 'the link to go down');
      expect(queue.health().attached).toBe(false);
      await own.start();
      await until(() => queue.health().attached === true, 'the subscription to be back', 20_000);
      expect(conn.health().linkUp).toBe(true);
    });
  },
);
