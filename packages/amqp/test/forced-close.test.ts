import { MqError, waitForStatus } from '@mq/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  deleteTopology,
  forceClose,
  listQueues,
  projectNode,
  rabbitmqctl,
  skipNote,
  until,
  useNode,
} from './broker.js';
import { connected, queueName, receiver, sender, statuses } from './helpers.js';

// On the amqp project's own RabbitMQ node (these tests use rabbitmqctl): never the broker under test.
const { node: projectBroker, skip } = projectNode();
if (projectBroker) useNode(projectBroker);

// These close their own connections with `rabbitmqctl close_connection` (found by connection_name), which
// disturbs nothing else on the node.
const queues: string[] = [];
const exchanges: string[] = [];
afterAll(() => deleteTopology(queues, exchanges), 30_000);

describe.skipIf(skip !== undefined)(
  `forced disconnect (rabbitmqctl close_connection)${skipNote(skip)}`,
  () => {
    it('the connection reconnects by itself; receivers consume and reliable senders confirm again', async () => {
      const name = queueName('forced');
      queues.push(name);
      exchanges.push(name);
      const conn = await connected();
      const other = await connected();
      try {
        const errors: MqError[] = [];
        conn.on('error', (error) => errors.push(error));
        const uni = await receiver(conn, { name, reliable: true });
        const fan = await receiver(conn, { name, broadcast: true });
        const uniSend = await sender(conn, { name, reliable: true });
        const fanSend = await sender(other, { name, broadcast: true, reliable: true });
        const seen = statuses(conn);
        const queueSeen = [uni.queue, fan.queue, uniSend].map(statuses);

        await forceClose(conn);
        await until(() => seen.includes('disconnected'), 'the connection to go disconnected');
        await waitForStatus(conn, 'connected');
        for (const queue of [uni.queue, fan.queue, uniSend]) await waitForStatus(queue, 'connected');

        expect(seen).toEqual(['disconnected', 'connecting', 'connected']);
        for (const queueStatuses of queueSeen) expect(queueStatuses).toContain('disconnected');
        expect(errors.map((e) => e.code)).toContain('BROKER');
        expect(errors.map((e) => e.message).join('\n')).toContain('CONNECTION_FORCED');

        await uniSend.sendMsg(Buffer.from('after-unicast'));
        await fanSend.sendMsg(Buffer.from('after-broadcast'));
        await until(() => uni.texts.includes('after-unicast'), 'the unicast message');
        await until(() => fan.texts.includes('after-broadcast'), 'the broadcast message');
        // The broadcast receiver got a fresh temporary queue; the old one went with the old connection.
        const bound = (await rabbitmqctl('list_bindings', 'source_name', 'destination_name'))
          .split('\n')
          .filter((line) => line.startsWith(`${name}\t`));
        expect(bound).toHaveLength(1);
      } finally {
        await conn.close();
        await other.close();
      }
    }, 30_000);

    it('reliable sends in flight when the link drops all settle: confirmed ones arrive, the others reject CONNECTION_LOST', async () => {
      const name = queueName('inflight');
      queues.push(name);
      const conn = await connected();
      const other = await connected();
      try {
        const inbox = await receiver(other, { name, reliable: true, prefetch: 1000 });
        const send = await sender(conn, { name, reliable: true });
        const sends: Array<{ text: string; outcome: Promise<void> }> = [];
        let stop = false;
        // Batches of 200, each sent once the one before last has settled: up to 400 confirms in flight.
        const producing = (async () => {
          let previous: Promise<unknown> = Promise.resolve();
          for (let i = 0; !stop && send.status === 'connected'; ) {
            const batch: Promise<void>[] = [];
            for (let j = 0; j < 200; j += 1, i += 1) {
              const text = `f${i}`;
              const outcome = send.sendMsg(Buffer.from(text));
              sends.push({ text, outcome });
              batch.push(outcome);
            }
            await previous;
            previous = Promise.allSettled(batch);
          }
        })();
        // Recorded as it happens: by the time rabbitmqctl exits, the sender may have reconnected already.
        let dropped = false;
        send.on('status', (status) => {
          if (status !== 'connected') dropped = true;
        });
        await forceClose(conn);
        await until(() => dropped, 'the sender to see the drop');
        stop = true;
        await producing;
        const outcomes = await Promise.allSettled(sends.map((s) => s.outcome));
        const confirmed = sends.filter((_, i) => outcomes[i]!.status === 'fulfilled').map((s) => s.text);
        const codes = new Set(
          outcomes.flatMap((o) => (o.status === 'rejected' ? [(o.reason as MqError).code] : [])),
        );
        expect([...codes].every((code) => code === 'CONNECTION_LOST' || code === 'NOT_CONNECTED')).toBe(true);
        expect(confirmed.length).toBeGreaterThan(0);
        // At least once: every confirmed message reaches the receiver.
        await until(() => {
          const got = new Set(inbox.texts);
          return confirmed.every((text) => got.has(text));
        }, `all ${confirmed.length} confirmed messages`);
      } finally {
        await conn.close();
        await other.close();
      }
    }, 30_000);

    it('an ack for a message from the dead channel rejects ACK_FAILED and does not close the new channel', async () => {
      const name = queueName('stale-ack');
      queues.push(name);
      const conn = await connected();
      const other = await connected();
      try {
        const inbox = await receiver(conn, { name, reliable: true }, false);
        const send = await sender(other, { name, reliable: true });
        await send.sendMsg(Buffer.from('old'));
        await until(() => inbox.messages.length === 1, 'the first delivery');
        const stale = inbox.messages[0]!;

        // Recorded, not polled: the queue can be back to connected before forceClose()'s rabbitmqctl returns.
        const seen: string[] = [];
        inbox.queue.on('status', (status) => seen.push(status));
        await forceClose(conn);
        await until(() => seen.includes('disconnected'), 'the receiver to go disconnected');
        await waitForStatus(inbox.queue, 'connected');
        await until(() => inbox.messages.length === 2, 'the redelivery on the new channel');

        const error = await stale.ack().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(MqError.hasCode(error, 'ACK_FAILED')).toBe(true);
        await expect(stale.nack()).resolves.toBeUndefined(); // already settled once: ignored
        await inbox.messages[1]!.ack();
        await send.sendMsg(Buffer.from('next'));
        await until(() => inbox.texts.includes('next'), 'a message after the stale ack');
        await inbox.messages[2]!.ack();
        // The new channel is alive and every message is acked: nothing left on the broker.
        await until(async () => {
          const row = (await listQueues(name, ['messages'])).get(name);
          return row?.messages === 0;
        }, 'the queue to be empty');
        expect(inbox.queue.status).toBe('connected');
        expect(inbox.errors.map((e) => (e as MqError).code)).not.toContain('BROKER');
      } finally {
        await conn.close();
        await other.close();
      }
    }, 30_000);
  },
);
