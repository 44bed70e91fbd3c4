import { type MosquittoBroker, mosquittoMissing, startMosquitto, uniqueId } from '@mq/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttQueue } from '../src/index.js';
import { connection, queueName, sender, until } from './helpers.js';

// On a Mosquitto of this file's own that sends up to 1,000 unacked messages to a client at once (far past any
// prefetch): issue #25.6 saw a receiver hold 56,999 unacked messages in the process (Mosquitto 2.0 sends past its
// own in-flight limit once acks flow). A receiver holds at most its prefetch: the connection stops reading its
// socket, never its acks.
const missing = mosquittoMissing();
let broker: MosquittoBroker | undefined;
beforeAll(async () => {
  if (!missing)
    broker = await startMosquitto({
      persistence: true,
      config: ['max_inflight_messages 1000', 'max_queued_messages 0'],
    });
}, 30_000);
afterAll(() => broker?.dispose());

describe.skipIf(missing !== undefined)(
  `a receiver's prefetch bounds what it holds in the process${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    it.each([5, 4] as const)(
      'a backlog of 2,000 on a broker that sends 1,000 at once: never more than prefetch (10) unsettled at a time, every message handled (protocolVersion %i)',
      async (protocolVersion) => {
        const name = queueName('prefetch');
        const clientId = uniqueId('prefetch');
        const persistent = { uri: broker!.url, clientId, cleanSession: false, protocolVersion } as const;
        const first = await connection(persistent);
        const opening = new MqttQueue({ name, isRecv: true, reliable: true }, first);
        opening.setMsgHandler((_q, message) => message.ack());
        opening.connect();
        await until(() => opening.status === 'connected', 'the first receiver');
        await first.close();
        const send = await sender(await connection({ uri: broker!.url }), { name, reliable: true });
        const items = Array.from({ length: 2000 }, (_, i) => `b-${i}`);
        await Promise.all(items.map((item) => send.sendMsg(Buffer.from(item))));

        const back = await connection(persistent);
        const queue = new MqttQueue({ name, isRecv: true, reliable: true, prefetch: 10 }, back);
        const got = new Set<string>();
        let unsettled = 0;
        let most = 0;
        queue.setMsgHandler(async (_q, message) => {
          unsettled += 1;
          most = Math.max(most, unsettled);
          got.add(message.payload.toString());
          await new Promise((resolve) => setTimeout(resolve, 1));
          unsettled -= 1;
          await message.ack();
        });
        queue.connect();
        await until(() => got.size === items.length, `every message (got ${got.size})`, 30_000);
        expect(most).toBeLessThanOrEqual(10);
        await queue.close();
      },
      60_000,
    );

    it('a live stream of 2,000 sent at once to a subscribed receiver: never more than prefetch (10) unsettled at a time, every message handled', async () => {
      const name = queueName('live');
      const conn = await connection({ uri: broker!.url });
      const queue = new MqttQueue({ name, isRecv: true, reliable: true, prefetch: 10 }, conn);
      const got = new Set<string>();
      let unsettled = 0;
      let most = 0;
      queue.setMsgHandler(async (_q, message) => {
        unsettled += 1;
        most = Math.max(most, unsettled);
        got.add(message.payload.toString());
        await new Promise((resolve) => setTimeout(resolve, 1));
        unsettled -= 1;
        await message.ack();
      });
      queue.connect();
      await until(() => queue.status === 'connected', 'the receiver');
      const send = await sender(await connection({ uri: broker!.url }), { name, reliable: true });
      const items = Array.from({ length: 2000 }, (_, i) => `l-${i}`);
      await Promise.all(items.map((item) => send.sendMsg(Buffer.from(item))));
      await until(() => got.size === items.length, `every message (got ${got.size})`, 30_000);
      expect(most).toBeLessThanOrEqual(10);
      await queue.close();
    }, 60_000);

    it('a handler slower than 1.5 × keepalive at prefetch 1: the link stays up (pings go on while reads are held) and nothing comes twice', async () => {
      const name = queueName('slow');
      const conn = await connection({ uri: broker!.url, keepaliveSeconds: 1 });
      const errors: string[] = [];
      conn.on('error', (error) => errors.push(`${error.code} ${error.message}`));
      const queue = new MqttQueue({ name, isRecv: true, reliable: true, prefetch: 1 }, conn);
      const got: string[] = [];
      queue.setMsgHandler(async (_q, message) => {
        got.push(message.payload.toString());
        // Three keepalive deadlines (1.5 s each) while this one message holds the reads.
        if (got.length === 1) await new Promise((resolve) => setTimeout(resolve, 4500));
        await message.ack();
      });
      queue.connect();
      await until(() => queue.status === 'connected', 'the receiver');
      const send = await sender(await connection({ uri: broker!.url }), { name, reliable: true });
      for (const text of ['s-0', 's-1', 's-2']) await send.sendMsg(Buffer.from(text));
      await until(() => got.length >= 3, 'the three messages', 15_000);
      expect(got).toEqual(['s-0', 's-1', 's-2']);
      expect(errors).toEqual([]);
      await queue.close();
    }, 30_000);

    it('close() of a receiver fed faster than it handles resolves in bounded time', async () => {
      const name = queueName('close');
      const conn = await connection({ uri: broker!.url });
      const queue = new MqttQueue({ name, isRecv: true, reliable: true, prefetch: 5 }, conn);
      let handled = 0;
      queue.setMsgHandler(async (_q, message) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        handled += 1;
        await message.ack();
      });
      queue.connect();
      await until(() => queue.status === 'connected', 'the receiver');
      const send = await sender(await connection({ uri: broker!.url }), { name, reliable: true });
      await Promise.all(Array.from({ length: 1000 }, (_, i) => send.sendMsg(Buffer.from(`c-${i}`))));
      await until(() => handled >= 10, 'the first handled messages');
      const started = Date.now();
      await queue.close();
      // Prefetch 5 at 20 ms each, plus the drain of what the broker had assigned (connectTimeoutMillis, 3 s).
      expect(Date.now() - started).toBeLessThan(5000);
    }, 60_000);
  },
);
