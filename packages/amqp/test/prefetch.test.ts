import { afterAll, describe, expect, it } from 'vitest';
import { deleteTopology, listQueues, projectNode, skipNote, until, useNode } from './broker.js';
import { connected, queueName, receiver, sender } from './helpers.js';

// On the amqp project's own RabbitMQ node (these tests use rabbitmqctl): never the broker under test.
const { node: projectBroker, skip } = projectNode();
if (projectBroker) useNode(projectBroker);

const names: string[] = [];
afterAll(() => deleteTopology(names), 30_000);

describe.skipIf(skip !== undefined)(`prefetch (basic.qos)${skipNote(skip)}`, () => {
  it('a receiver with prefetch 2 that never acks holds exactly 2 messages; each ack lets exactly one more in', async () => {
    const name = queueName('prefetch');
    names.push(name);
    const conn = await connected();
    try {
      const inbox = await receiver(conn, { name, prefetch: 2 }, false);
      const send = await sender(conn, { name, reliable: true });
      await Promise.all(Array.from({ length: 10 }, (_, i) => send.sendMsg(Buffer.from(`p${i}`))));
      await until(() => inbox.messages.length >= 2, 'two deliveries');
      // The broker's own count is the proof: 2 unacked at the consumer, 8 still ready in the queue.
      await until(async () => {
        const q = (await listQueues(name, ['messages_ready', 'messages_unacknowledged'])).get(name);
        return q?.messages_ready === 8 && q.messages_unacknowledged === 2;
      }, '8 ready and 2 unacked on the broker');
      expect(inbox.texts).toEqual(['p0', 'p1']);

      await inbox.messages[0]!.ack();
      await until(() => inbox.messages.length >= 3, 'a third delivery after one ack');
      await until(async () => {
        const q = (await listQueues(name, ['messages_ready', 'messages_unacknowledged'])).get(name);
        return q?.messages_ready === 7 && q.messages_unacknowledged === 2;
      }, '7 ready and 2 unacked on the broker');
      expect(inbox.texts).toEqual(['p0', 'p1', 'p2']);
      expect(inbox.errors).toEqual([]);
    } finally {
      await conn.close();
    }
  });
});
