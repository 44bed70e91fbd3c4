import { waitForStatus } from '@mq/core';
import { describe, expect, it } from 'vitest';
import { listQueues, nodeForThisFile, rabbitmqctl, skipNote, until } from './broker.js';
import { connected, queueName, receiver, sender, statuses } from './helpers.js';

// Restarts RabbitMQ (stop_app / start_app): on a node of this file's own, never the broker under test.
const missing = nodeForThisFile();

describe.skipIf(missing !== undefined)(
  `broker restart (rabbitmqctl stop_app / start_app)${skipNote(missing)}`,
  () => {
    it('persistent messages survive it, transient ones do not; everything reconnects and works again', async () => {
      const kept = queueName('restart-persistent');
      const lost = queueName('restart-transient');
      const live = queueName('restart-live');
      const conn = await connected({ reconnectMillis: 250 });
      const other = await connected({ reconnectMillis: 250 });
      try {
        const persistentSend = await sender(conn, { name: kept, reliable: true, persistent: true });
        const transientSend = await sender(conn, { name: lost, reliable: true });
        const liveRecv = await receiver(other, { name: live, reliable: true });
        const fanRecv = await receiver(other, { name: live, broadcast: true });
        const liveSend = await sender(conn, { name: live, reliable: true, persistent: true });
        const fanSend = await sender(conn, { name: live, broadcast: true, reliable: true });
        for (let i = 0; i < 5; i += 1) {
          await persistentSend.sendMsg(Buffer.from(`kept-${i}`));
          await transientSend.sendMsg(Buffer.from(`lost-${i}`));
        }
        const seen = statuses(conn);

        let whileDown: Promise<unknown> = Promise.resolve();
        try {
          await rabbitmqctl('stop_app');
          await until(() => seen.includes('disconnected'), 'the connection to notice the stop');
          // Waits for the link (sendTimeoutMillis 30 s by default) and goes once the broker is back.
          whileDown = liveSend.sendMsg(Buffer.from('while-down')).then(
            () => 'sent',
            (e: unknown) => e,
          );
        } finally {
          await rabbitmqctl('start_app');
        }

        await waitForStatus(conn, 'connected', { timeoutMillis: 30_000 });
        await waitForStatus(other, 'connected', { timeoutMillis: 30_000 });
        for (const queue of [
          persistentSend,
          transientSend,
          liveRecv.queue,
          fanRecv.queue,
          liveSend,
          fanSend,
        ]) {
          await waitForStatus(queue, 'connected', { timeoutMillis: 30_000 });
        }
        const stored = await listQueues('mq-amqp-test.restart-', [
          'messages',
          'messages_persistent',
          'durable',
        ]);
        expect(stored.get(kept)).toEqual({ messages: 5, messages_persistent: 5, durable: true });
        expect(stored.get(lost)).toEqual({ messages: 0, messages_persistent: 0, durable: true });

        expect(await whileDown).toBe('sent');
        // The receiver consumes again, the reliable senders confirm again, the fanout exchange was re-declared.
        await liveSend.sendMsg(Buffer.from('after-restart'));
        await until(() => liveRecv.texts.includes('while-down'), 'the send made while the broker was down');
        await fanSend.sendMsg(Buffer.from('fan-after-restart'));
        await until(() => liveRecv.texts.includes('after-restart'), 'a unicast message after the restart');
        await until(
          () => fanRecv.texts.includes('fan-after-restart'),
          'a broadcast message after the restart',
        );
        const keptRecv = await receiver(other, { name: kept, reliable: true });
        await until(() => keptRecv.texts.length === 5, 'the 5 persistent messages');
        expect(keptRecv.texts).toEqual(['kept-0', 'kept-1', 'kept-2', 'kept-3', 'kept-4']);
      } finally {
        await conn.close();
        await other.close();
      }
    }, 90_000);
  },
);
