import { MqError, waitForStatus } from '@mq/core';
import { type RabbitCluster, rabbitmqMissing, startRabbitCluster, uniqueId } from '@mq/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttConnection, MqttQueue } from '../src/index.js';

// The MQTT twin of packages/amqp/cluster/failover.test.ts, on the MQTT plugin (MQTT 3.1.1) of a 3-node RabbitMQ
// cluster of our own: node 1, the node both clients are on (and where the receiver's persistent session queue
// lives, mirrored to the others), stops for 20 s while 10 senders send 6,000 reliable messages to a receiver with
// a persistent session. With the three addresses the clients move to another node: nothing confirmed may be lost,
// every send must settle, and the longest gap between confirmed sends is reported.
const missing = rabbitmqMissing();
const MESSAGES = 6000;
const SENDERS = 10;
const DOWN_MILLIS = 20_000;
const SEND_TIMEOUT_MILLIS = 10_000;
const RETRYABLE = new Set(['CONNECTION_LOST', 'NOT_CONNECTED', 'TIMEOUT', 'CLOSED', 'NO_RECEIVER']);

let cluster: RabbitCluster | undefined;
beforeAll(async () => {
  if (missing) return;
  cluster = await startRabbitCluster({ nodes: 3, mqtt: true });
  // RabbitMQ 3.10 keeps an MQTT persistent session in a classic queue on the node the client subscribed on:
  // mirrored to every node, it outlives that node's stop (quorum queues for MQTT come with 3.11).
  await cluster.nodes[0]!.ctl(
    'set_policy',
    'mqtt-sessions-mirrored',
    '^mqtt-subscription-',
    '{"ha-mode":"all","ha-sync-mode":"automatic"}',
    '--apply-to',
    'queues',
  );
}, 180_000);
afterAll(() => cluster?.dispose(), 60_000);

describe.skipIf(missing !== undefined)(
  `the MQTT plugin of a 3-node RabbitMQ cluster${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    it('the node the clients are on stopped for 20 s mid-stream: they move to another node, no confirmed message lost, every send settled', async () => {
      const { nodes, mqttUrls } = cluster as RabbitCluster;
      const name = `mqcluster-${uniqueId('q').replace(/[^a-zA-Z0-9-]/g, '-')}`;
      const connect = (options: { clientId?: string; cleanSession?: boolean } = {}): MqttConnection => {
        const conn = new MqttConnection({
          uri: [...mqttUrls],
          protocolVersion: 4,
          reconnectMillis: 200,
          reconnectMaxMillis: 2000,
          ...options,
        });
        conn.on('error', () => {});
        conn.connect();
        return conn;
      };
      const senderConn = connect();
      const receiverConn = connect({ clientId: uniqueId('mq-cluster-worker'), cleanSession: false });
      await Promise.all([waitForStatus(senderConn, 'connected'), waitForStatus(receiverConn, 'connected')]);
      expect([senderConn.address, receiverConn.address]).toEqual([
        senderConn.addresses[0],
        receiverConn.addresses[0],
      ]);

      const received = new Set<string>();
      let duplicates = 0;
      // RabbitMQ 3.10 has no shared subscriptions: one receiver, on a plain subscription.
      const receiver = new MqttQueue({ name, isRecv: true, reliable: true, sharedPrefix: '' }, receiverConn);
      receiver.on('error', () => {});
      receiver.setMsgHandler(async (_queue, message) => {
        const text = message.payload.toString();
        if (received.has(text)) duplicates += 1;
        received.add(text);
        // An ack across the loss may fail: the session then delivers it again (a duplicate, not a loss).
        await message.ack().catch(() => {});
      });
      receiver.connect();
      await waitForStatus(receiver, 'connected');

      const senders: MqttQueue[] = [];
      for (let i = 0; i < SENDERS; i += 1) {
        const queue = new MqttQueue(
          { name, isRecv: false, reliable: true, sendTimeoutMillis: SEND_TIMEOUT_MILLIS },
          senderConn,
        );
        queue.on('error', () => {});
        queue.connect();
        senders.push(queue);
      }
      await Promise.all(senders.map((queue) => waitForStatus(queue, 'connected')));

      const confirmedAt: number[] = [];
      const moved = (): boolean =>
        senderConn.status === 'connected' &&
        receiverConn.status === 'connected' &&
        senderConn.address !== senderConn.addresses[0] &&
        receiverConn.address !== receiverConn.addresses[0];
      const afterMove = { count: 0 };
      const confirmed = new Set<string>();
      const stats = { resent: 0, slowest: 0, badCodes: [] as string[] };
      const sendOne = async (queue: MqttQueue, text: string): Promise<void> => {
        for (;;) {
          if (queue.status !== 'connected')
            await waitForStatus(queue, 'connected', { timeoutMillis: 60_000 });
          const started = Date.now();
          try {
            await queue.sendMsg(Buffer.from(text));
            stats.slowest = Math.max(stats.slowest, Date.now() - started);
            confirmed.add(text);
            confirmedAt.push(Date.now());
            if (moved()) afterMove.count += 1;
            return;
          } catch (error) {
            stats.slowest = Math.max(stats.slowest, Date.now() - started);
            const code = MqError.isInstance(error) ? error.code : String(error);
            if (!RETRYABLE.has(code)) stats.badCodes.push(code);
            if (stats.badCodes.length > 0) throw error;
            stats.resent += 1;
            await new Promise((resolve) => setImmediate(resolve));
          }
        }
      };
      const sending = Promise.all(
        senders.map(async (queue, i) => {
          // At least MESSAGES in all, and on until 500 more were confirmed once both clients had moved.
          for (let n = 0; n < MESSAGES / SENDERS || afterMove.count < 500; n += 1) {
            await sendOne(queue, `m-${i}-${n}`);
          }
        }),
      );
      // Node 1 goes down once a third is confirmed, and stays down 20 s (the fault itself, not a wait for a result).
      while (confirmed.size < MESSAGES / 3) await new Promise((resolve) => setTimeout(resolve, 5));
      const stoppedAt = Date.now();
      await nodes[0]!.stop();
      const stopTook = Date.now() - stoppedAt;
      await sending;
      const streamEnded = Date.now();
      const left = DOWN_MILLIS - (Date.now() - stoppedAt);
      if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
      await nodes[0]!.start();

      const after = Array.from({ length: 200 }, (_, n) => `after-${n}`);
      await Promise.all(after.map((text, n) => sendOne(senders[n % SENDERS]!, text)));
      const deadline = Date.now() + 30_000;
      while ([...confirmed].some((text) => !received.has(text)) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));

      const during = confirmedAt.filter((at) => at <= streamEnded).sort((a, b) => a - b);
      let gap = 0;
      for (let i = 1; i < during.length; i += 1) gap = Math.max(gap, during[i]! - during[i - 1]!);
      const lost = [...confirmed].filter((text) => !received.has(text)).length;
      console.log(
        `MQTT cluster failover: node 1 (clients' node, persistent session queue's master) stopped once a third was confirmed (the stop took ${stopTook} ms); longest gap between confirmed sends ${gap} ms; lost ${lost} of ${confirmed.size} confirmed; ${duplicates} duplicates; ${stats.resent} sends rejected and resent; slowest send ${stats.slowest} ms; stream ended ${streamEnded - stoppedAt} ms after the stop`,
      );
      expect(stats.badCodes).toEqual([]);
      expect(lost).toBe(0);
      expect(confirmed.size).toBeGreaterThanOrEqual(MESSAGES + after.length);
      expect(afterMove.count).toBeGreaterThanOrEqual(500);
      expect(stats.slowest).toBeLessThanOrEqual(SEND_TIMEOUT_MILLIS + 1000);
      expect(gap).toBeLessThan(DOWN_MILLIS);
      expect(senderConn.address).not.toBe(senderConn.addresses[0]);
      expect(receiverConn.address).not.toBe(receiverConn.addresses[0]);
      await Promise.all([senderConn.close(), receiverConn.close()]);
    });
  },
);
