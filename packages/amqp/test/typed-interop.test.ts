import { type Message, MqError, type StandardSchemaV1, waitForStatus } from '@mq/core';
import * as amqp from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { AmqpQueue } from '../src/index.js';
import { brokerUrl, deleteTopology, until } from './broker.js';
import { connected, queueName } from './helpers.js';

// Typed messages as plain AMQP clients see them: a plain amqplib producer of JSON feeds a typed receiver (and its
// malformed messages are dead-lettered once), and a plain amqplib consumer reads what a typed sender sends.
const made = new Set<string>();
afterAll(() => deleteTopology(made), 30_000);

function name(part: string): string {
  const q = queueName(part);
  made.add(q);
  return q;
}

interface Order {
  id: number;
  item: string;
}

/** A Standard Schema v1 validator by hand (zod and valibot give the same interface). */
const orderSchema: StandardSchemaV1<unknown, Order> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (value) => {
      const order = value as Partial<Order> | null;
      return typeof order === 'object' &&
        order !== null &&
        typeof order.id === 'number' &&
        typeof order.item === 'string'
        ? { value: { id: order.id, item: order.item } }
        : { issues: [{ message: 'expected { id: number, item: string }' }] };
    },
  },
};

/** Publishes each payload with plain amqplib on a confirm channel. */
async function publishPlain(queue: string, items: Array<{ body: string; options?: amqp.Options.Publish }>) {
  const model = await amqp.connect(brokerUrl());
  try {
    const channel = await model.createConfirmChannel();
    for (const { body, options } of items) channel.sendToQueue(queue, Buffer.from(body), options ?? {});
    await channel.waitForConfirms();
  } finally {
    await model.close();
  }
}

describe('typed messages with plain amqplib', () => {
  it('a plain JSON producer feeds a typed receiver; its malformed and invalid messages are dead-lettered once, never handled nor retried', async () => {
    const q = name('typed-in');
    const dead = name('typed-dead');
    const conn = await connected();
    const orders: Message<Order>[] = [];
    const errors: MqError[] = [];
    const receiver = new AmqpQueue(
      { name: q, isRecv: true, codec: 'json', schema: orderSchema, deadLetter: dead, retryDelayMillis: 0 },
      conn,
    );
    receiver.on('error', (error) => errors.push(error));
    receiver.setMsgHandler(async (_queue, message) => {
      orders.push(message);
      await message.ack();
    });
    receiver.connect();
    const letters: Message[] = [];
    const dlq = new AmqpQueue({ name: dead, isRecv: true }, conn);
    dlq.setMsgHandler(async (_queue, message) => {
      letters.push(message);
      await message.ack();
    });
    dlq.connect();
    await Promise.all([waitForStatus(receiver, 'connected'), waitForStatus(dlq, 'connected')]);
    await publishPlain(q, [
      { body: '{"id":1,"item":"tea"}', options: { contentType: 'application/json' } },
      { body: '{"id":2,', options: { contentType: 'application/json', messageId: 'truncated' } },
      { body: '{"id":"3"}', options: { messageId: 'wrong-type' } },
      { body: '{"id":4,"item":"cake"}' },
    ]);
    await until(() => orders.length === 2 && letters.length === 2, 'two orders and two dead letters');
    expect(orders.map((m) => m.body)).toEqual([
      { id: 1, item: 'tea' },
      { id: 4, item: 'cake' },
    ]);
    expect(letters.map((m) => m.payload.toString()).sort()).toEqual(['{"id":"3"}', '{"id":2,'].sort());
    for (const letter of letters) {
      expect(letter.headers['mq-dead-letter-from']).toBe(q);
      expect(letter.headers['mq-dead-letter-error']).toMatch(/^invalid payload: /);
    }
    const invalid = errors.filter((e) => e.code === 'INVALID_PAYLOAD');
    expect(invalid.map((e) => e.message).join('\n')).toMatch(/message 'truncated'.*could not decode/);
    expect(invalid.map((e) => e.message).join('\n')).toMatch(/message 'wrong-type'.*expected \{ id: number/);
    expect(errors.filter((e) => e.code !== 'INVALID_PAYLOAD')).toEqual([]);
    await receiver.close();
    await dlq.close();
    await conn.close();
  });

  it('a plain amqplib consumer reads a typed sender: JSON bytes with content type application/json; an invalid body is never published', async () => {
    const q = name('typed-out');
    const conn = await connected();
    const out = new AmqpQueue<Order>(
      { name: q, isRecv: false, reliable: true, codec: 'json', schema: orderSchema },
      conn,
    );
    out.connect();
    await waitForStatus(out, 'connected');
    const refused = await out.sendMsg({ id: 'x' } as unknown as Order).catch((error: unknown) => error);
    expect(MqError.hasCode(refused, 'INVALID_ARGUMENT')).toBe(true);
    expect((refused as MqError).issues).toHaveLength(1);
    await out.sendMsg({ id: 9, item: 'bread' }, { messageId: 'o-9' });
    const model = await amqp.connect(brokerUrl());
    try {
      const channel = await model.createChannel();
      const got = await channel.get(q, { noAck: true });
      expect(got).not.toBe(false);
      const { properties, content } = got as amqp.GetMessage;
      expect(properties).toMatchObject({ contentType: 'application/json', messageId: 'o-9' });
      expect(JSON.parse(content.toString())).toEqual({ id: 9, item: 'bread' });
      expect(await channel.get(q, { noAck: true })).toBe(false);
    } finally {
      await model.close();
      await out.close();
      await conn.close();
    }
  });
});
