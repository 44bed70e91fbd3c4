import { MqError, waitForStatus } from '@mq/core';
import { type MosquittoBroker, mosquittoMissing, startMosquitto, uniqueId } from '@mq/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttQueue } from '../src/index.js';
import { connection, queueName, receiver, sender, until } from './helpers.js';

// On a Mosquitto of this file's own, with persistence on: it is restarted. Mosquitto 2.0 says the session is
// present after a restart but has dropped its `$share/...` subscriptions, so a client that trusts "session
// present" and does not subscribe again silently loses everything sent after the restart (raw mqtt.js lost 6,668
// of 10,000 here). mq subscribes on every link: this pins it.
const missing = mosquittoMissing();
let broker: MosquittoBroker | undefined;
beforeAll(async () => {
  if (!missing) broker = await startMosquitto({ persistence: true });
}, 30_000);
afterAll(() => broker?.dispose());

describe.skipIf(missing !== undefined)(
  `a persistent-session receiver across a Mosquitto restart${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    it('keeps receiving through its shared subscription after the broker restarts: nothing confirmed is lost', async () => {
      const url = broker!.url;
      const name = queueName('restart');
      const worker = await connection({ uri: url, clientId: uniqueId('worker'), cleanSession: false });
      const { inbox } = await receiver(worker, { name, reliable: true });
      const producer = await connection({ uri: url });
      // No send waits for the link (sendBufferMessages 0): one made while the broker is down rejects at once.
      const send = await sender(producer, { name, reliable: true, sendBufferMessages: 0 });
      const confirmed: string[] = [];
      const sendBatch = async (prefix: string, n: number): Promise<void> => {
        for (let i = 0; i < n; i += 1) {
          await send.sendMsg(Buffer.from(`${prefix}-${i}`));
          confirmed.push(`${prefix}-${i}`);
        }
      };
      await sendBatch('before', 500);
      await until(() => inbox.texts.length >= 500, 'the messages sent before the restart');
      await broker!.stop();
      // While it is down, sends reject at once (nothing is queued offline).
      await expect(send.sendMsg(Buffer.from('while-down'))).rejects.toSatisfy(
        (error: unknown) =>
          MqError.hasCode(error, 'NOT_CONNECTED') || MqError.hasCode(error, 'CONNECTION_LOST'),
      );
      await broker!.start();
      await waitForStatus(worker, 'connected', { timeoutMillis: 15_000 });
      expect(worker.sessionPresent).toBe(true);
      await waitForStatus(send, 'connected', { timeoutMillis: 15_000 });
      await sendBatch('after', 1000);
      await until(
        () => {
          const got = new Set(inbox.texts);
          return confirmed.every((text) => got.has(text));
        },
        `all ${confirmed.length} confirmed messages (got ${new Set(inbox.texts).size})`,
        15_000,
      );
    }, 60_000);

    it('while 10 reliable senders stream to it, across a restart: a send the broker discarded for want of a subscriber rejects NO_RECEIVER, and nothing resolved is lost', async () => {
      const url = broker!.url;
      const name = queueName('restart-stream');
      // The receiver comes back well after the senders: the window in which Mosquitto has dropped the session's
      // `$share` subscription and PUBACKs what arrives with "no matching subscribers" (and discards it).
      const worker = await connection({
        uri: url,
        clientId: uniqueId('worker'),
        cleanSession: false,
        reconnectMillis: 1500,
      });
      const { inbox } = await receiver(worker, { name, reliable: true });
      const producer = await connection({ uri: url, reconnectMillis: 100 });
      const senders: MqttQueue[] = [];
      for (let i = 0; i < 10; i += 1) senders.push(await sender(producer, { name, reliable: true }));
      const retryable = new Set(['NOT_CONNECTED', 'CONNECTION_LOST', 'NO_RECEIVER', 'TIMEOUT']);
      const resolved: string[] = [];
      const codes = new Map<string, number>();
      let restarted = false;
      let afterBack = 0;
      const sendOne = async (queue: MqttQueue, text: string): Promise<void> => {
        for (;;) {
          if (queue.status !== 'connected')
            await waitForStatus(queue, 'connected', { timeoutMillis: 20_000 });
          try {
            await queue.sendMsg(Buffer.from(text));
            resolved.push(text);
            if (restarted && worker.status === 'connected') afterBack += 1;
            return;
          } catch (error) {
            const code = MqError.isInstance(error) ? error.code : String(error);
            codes.set(code, (codes.get(code) ?? 0) + 1);
            if (!retryable.has(code)) throw error;
            await new Promise((resolve) => setImmediate(resolve));
          }
        }
      };
      const streaming = Promise.all(
        senders.map(async (queue, i) => {
          for (let n = 0; n < 150 || !restarted || afterBack < 500; n += 1)
            await sendOne(queue, `s${i}-${n}`);
        }),
      );
      await until(() => resolved.length >= 500, 'the first 500 sends');
      await broker!.stop();
      await broker!.start();
      restarted = true;
      await streaming;
      await until(
        () => {
          const got = new Set(inbox.texts);
          return resolved.every((text) => got.has(text));
        },
        `every resolved send at the receiver (${resolved.length} resolved; rejections ${JSON.stringify([...codes])})`,
        15_000,
      );
      // The window was there: the broker told the senders it had discarded some (MQTT 5).
      expect(codes.get('NO_RECEIVER') ?? 0).toBeGreaterThan(0);
    }, 90_000);

    it('a topic receiver of a group keeps receiving after the restart: its $share/<group>/<space>/... filters are subscribed again', async () => {
      const url = broker!.url;
      const space = queueName('space');
      const worker = await connection({ uri: url, clientId: uniqueId('worker'), cleanSession: false });
      const { inbox } = await receiver(worker, {
        name: space,
        routing: 'topic',
        reliable: true,
        topics: ['*.temperature'],
        group: 'ingest',
      });
      const producer = await connection({ uri: url });
      const send = await sender(producer, { name: space, routing: 'topic', reliable: true });
      const confirmed: string[] = [];
      const sendBatch = async (prefix: string, n: number): Promise<void> => {
        for (let i = 0; i < n; i += 1) {
          await send.sendMsg(Buffer.from(`${prefix}-${i}`), { topic: `d${i % 7}.temperature` });
          confirmed.push(`${prefix}-${i}`);
        }
      };
      await sendBatch('before', 100);
      await until(() => inbox.texts.length >= 100, 'the messages sent before the restart');
      await broker!.stop();
      await broker!.start();
      await waitForStatus(worker, 'connected', { timeoutMillis: 15_000 });
      expect(worker.sessionPresent).toBe(true);
      await waitForStatus(send, 'connected', { timeoutMillis: 15_000 });
      await sendBatch('after', 200);
      await until(
        () => {
          const got = new Set(inbox.texts);
          return confirmed.every((text) => got.has(text));
        },
        `all ${confirmed.length} confirmed messages (got ${new Set(inbox.texts).size})`,
        15_000,
      );
      expect(inbox.messages.at(-1)?.topic).toMatch(/^d\d\.temperature$/);
    }, 60_000);
  },
);
