import * as amqp from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { brokerUrl, deleteTopology, listQueues, projectNode, skipNote, until, useNode } from './broker.js';
import { connected, queueName, sender } from './helpers.js';

// On the amqp project's own RabbitMQ node (these tests use rabbitmqctl): never the broker under test.
const { node: projectBroker, skip } = projectNode();
if (projectBroker) useNode(projectBroker);

const names: string[] = [];
afterAll(() => deleteTopology(names), 30_000);

/** Takes up to `count` messages off `queue` with a plain amqplib channel and returns their delivery modes. */
async function deliveryModes(queue: string, count: number): Promise<unknown[]> {
  const model = await amqp.connect(brokerUrl());
  model.on('error', () => {});
  try {
    const channel = await model.createChannel();
    channel.on('error', () => {});
    const modes: unknown[] = [];
    for (let i = 0; i < count; i += 1) {
      const message = await channel.get(queue, { noAck: true });
      if (message) modes.push(message.properties.deliveryMode);
    }
    return modes;
  } finally {
    await model.close().catch(() => {});
  }
}

describe.skipIf(skip !== undefined)(`persistent${skipNote(skip)}`, () => {
  it.each([
    { reliable: false, persistent: true, mode: 2 },
    { reliable: true, persistent: true, mode: 2 },
    { reliable: false, persistent: false, mode: 1 },
    { reliable: true, persistent: false, mode: 1 },
  ])(
    'reliable $reliable, persistent $persistent: messages go out with delivery mode $mode into a durable queue',
    async ({ reliable, persistent, mode }) => {
      const name = queueName('persistent');
      names.push(name);
      const conn = await connected();
      try {
        const send = await sender(conn, { name, reliable, persistent });
        for (let i = 0; i < 3; i += 1) await send.sendMsg(Buffer.from(`m${i}`));
        const columns = ['durable', 'messages', 'messages_persistent'];
        await until(
          async () => (await listQueues(name, columns)).get(name)?.messages === 3,
          '3 messages stored',
        );
        expect((await listQueues(name, columns)).get(name)).toEqual({
          durable: true,
          messages: 3,
          messages_persistent: persistent ? 3 : 0,
        });
        expect(await deliveryModes(name, 3)).toEqual([mode, mode, mode]);
      } finally {
        await conn.close();
      }
    },
  );
});
