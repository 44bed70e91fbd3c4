import { type Message, waitForStatus } from '@mq/core';
import { type MosquittoBroker, mosquittoMissing, startMosquitto, uniqueId } from '@mq/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttQueue } from '../src/index.js';
import { connection, queueName, receiver, sendAll, sender, until } from './helpers.js';

// On a Mosquitto of this file's own. A receiver closed on a persistent session (its loop broken off, or closed on
// its own) leaves what the broker had assigned to the session for the session to deliver again: never acked and
// dropped. Issue #25.2: 20 sent, break after acking 10 while holding m-10, the connection closed, the same session
// again: it got m-10 only, and m-11..m-19, confirmed to the sender, were gone.
const missing = mosquittoMissing();
let broker: MosquittoBroker | undefined;
beforeAll(async () => {
  if (!missing) broker = await startMosquitto({ persistence: true });
}, 30_000);
afterAll(() => broker?.dispose());

const texts = (prefix: string, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `${prefix}${i}`);

describe.skipIf(missing !== undefined)(
  `closing a receiver on a persistent session${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    describe.each([5, 4] as const)('protocolVersion %i', (protocolVersion) => {
      const persistent = (clientId: string) => ({
        uri: broker!.url,
        clientId,
        cleanSession: false,
        protocolVersion,
        ...(protocolVersion === 5 ? { receiveMaximum: 5 } : {}),
      });

      it('break out of messages() after 10 acks while holding the 11th: the same session gets m-10..m-19 again', async () => {
        const name = queueName('break');
        const clientId = uniqueId('break');
        const first = await connection(persistent(clientId));
        const send = await sender(await connection({ uri: broker!.url }), { name, reliable: true });
        const queue = new MqttQueue({ name, isRecv: true, reliable: true, prefetch: 5 }, first);
        const messages = queue.messages();
        await waitForStatus(queue, 'connected');
        await sendAll(send, texts('m-', 20));
        let acked = 0;
        let held: Message | undefined;
        for await (const message of messages) {
          if (acked === 10) {
            held = message;
            break;
          }
          await message.ack();
          acked += 1;
        }
        expect(held?.payload.toString()).toBe('m-10');
        await first.close();
        const back = await connection(persistent(clientId));
        const { inbox } = await receiver(back, { name, reliable: true });
        await until(
          () =>
            texts('m-', 20)
              .slice(10)
              .every((text) => inbox.texts.includes(text)),
          `m-10..m-19 again (got ${JSON.stringify(inbox.texts)})`,
          5000,
        );
        expect(inbox.texts.filter((text) => ['m-0', 'm-5', 'm-9'].includes(text))).toEqual([]);
      });

      it('closed while the broker still had messages queued for it: they stay unacked (never acked and dropped) and the same session gets them again', async () => {
        const name = queueName('late');
        const clientId = uniqueId('late');
        const first = await connection(persistent(clientId));
        const reports: string[] = [];
        first.on('error', (error) => reports.push(error.message));
        const held = await receiver(first, { name, reliable: true }, 'none');
        const send = await sender(await connection({ uri: broker!.url }), { name, reliable: true });
        const window = protocolVersion === 5 ? 5 : 20;
        await sendAll(send, texts('m-', window + 10));
        await until(() => held.inbox.texts.length === window, 'a full in-flight window');
        await held.queue.close();
        // Acked after the close: the window frees and the broker sends the 10 it had queued for this session.
        for (const message of held.inbox.messages) await message.ack();
        await until(() => reports.some((text) => text.includes('kept unacked')), 'the report', 5000);
        await first.close();
        const back = await connection(persistent(clientId));
        const { inbox } = await receiver(back, { name, reliable: true });
        const late = texts('m-', window + 10).slice(window);
        await until(
          () => late.every((text) => inbox.texts.includes(text)),
          `the 10 late messages again (got ${JSON.stringify(inbox.texts)})`,
          5000,
        );
      });

      it('a nack while it closes leaves the message unacked for the session, which delivers it again', async () => {
        const name = queueName('nack');
        const clientId = uniqueId('nack');
        const first = await connection(persistent(clientId));
        let release: () => void = () => {};
        const gate = new Promise<void>((resolve) => {
          release = resolve;
        });
        const outcomes: string[] = [];
        const closing = await receiver(first, { name, reliable: true }, async (message) => {
          await gate;
          await message.nack().then(
            () => outcomes.push('resolved'),
            (error: { code: string }) => outcomes.push(error.code),
          );
        });
        const send = await sender(await connection({ uri: broker!.url }), { name, reliable: true });
        await sendAll(send, texts('n-', 3));
        await until(() => closing.inbox.texts.length === 3, 'three held handlers');
        const closed = closing.queue.close();
        release();
        await closed;
        expect(outcomes).toEqual(['ACK_FAILED', 'ACK_FAILED', 'ACK_FAILED']);
        await first.close();
        const back = await connection(persistent(clientId));
        const { inbox } = await receiver(back, { name, reliable: true });
        await until(
          () => texts('n-', 3).every((text) => inbox.texts.includes(text)),
          `the 3 nacked messages again (got ${JSON.stringify(inbox.texts)})`,
          5000,
        );
      });
    });
  },
);
