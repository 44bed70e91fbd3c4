import { type Message, waitForStatus } from '@mq/core';
import * as amqp from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { AmqpQueue } from '../src/index.js';
import { brokerUrl, deleteTopology, until } from './broker.js';
import { connected, queueName, sender } from './helpers.js';

// Metadata as other AMQP clients see it: plain amqplib on the same broker reads our properties as standard AMQP
// basic properties, and what it sets reaches our handlers.
const made = new Set<string>();
afterAll(() => deleteTopology(made), 30_000);

function name(part: string): string {
  const q = queueName(part);
  made.add(q);
  return q;
}

describe('AMQP message properties', () => {
  it('a plain amqplib consumer sees our metadata as standard properties and the headers table', async () => {
    const q = name('props-out');
    const out = await sender(await connected(), { name: q, reliable: true });
    await out.sendMsg(Buffer.from('hello'), {
      headers: { tenant: 'acme', 'x-custom': 'é' },
      messageId: 'm-1',
      correlationId: 'c-1',
      contentType: 'text/plain',
      expirationMillis: 60_000,
    });
    const model = await amqp.connect(brokerUrl());
    try {
      const channel = await model.createChannel();
      const got = await channel.get(q, { noAck: true });
      expect(got).not.toBe(false);
      const { properties } = got as amqp.GetMessage;
      expect(properties).toMatchObject({
        messageId: 'm-1',
        correlationId: 'c-1',
        contentType: 'text/plain',
        expiration: '60000',
        headers: { tenant: 'acme', 'x-custom': 'é' },
      });
    } finally {
      await model.close();
    }
  });

  it('what plain amqplib sets reaches our handler: ids, content type, timestamp in ms, headers of any type as text', async () => {
    const q = name('props-in');
    const got: Message[] = [];
    const receiver = new AmqpQueue({ name: q, isRecv: true }, await connected());
    receiver.setMsgHandler(async (_queue, message) => {
      got.push(message);
      await message.ack();
    });
    receiver.connect();
    await waitForStatus(receiver, 'connected');
    const model = await amqp.connect(brokerUrl());
    try {
      const channel = await model.createConfirmChannel();
      channel.sendToQueue(q, Buffer.from('from amqplib'), {
        messageId: 'raw-1',
        correlationId: 'raw-c',
        contentType: 'application/octet-stream',
        timestamp: 1_700_000_000,
        headers: { n: 7, flag: true, text: 'ok' },
      });
      await channel.waitForConfirms();
    } finally {
      await model.close();
    }
    await until(() => got.length === 1, 'the message');
    const [message] = got as [Message];
    expect(message).toMatchObject({
      messageId: 'raw-1',
      correlationId: 'raw-c',
      contentType: 'application/octet-stream',
      timestamp: 1_700_000_000_000,
      redelivered: false,
    });
    expect(message.headers).toEqual({ n: '7', flag: 'true', text: 'ok' });
  });

  it('a quorum queue counts deliveries: a nacked message comes again with deliveryCount 1', async () => {
    const q = name('count');
    const got: Message[] = [];
    const receiver = new AmqpQueue(
      { name: q, isRecv: true, queueType: 'quorum', prefetch: 1 },
      await connected(),
    );
    receiver.setMsgHandler(async (_queue, message) => {
      got.push(message);
      await (got.length === 1 ? message.nack() : message.ack());
    });
    receiver.connect();
    await waitForStatus(receiver, 'connected');
    const out = await sender(await connected(), { name: q, reliable: true, queueType: 'quorum' });
    await out.sendMsg(Buffer.from('count me'), { headers: { kept: 'yes' } });
    await until(() => got.length === 2, 'the redelivery');
    expect(got.map((m) => [m.redelivered, m.deliveryCount, m.headers.kept])).toEqual([
      [false, undefined, 'yes'],
      [true, 1, 'yes'],
    ]);
  });

  it('refuses the header names RabbitMQ gives a meaning to', async () => {
    const out = await sender(await connected(), { name: name('reserved'), reliable: true });
    for (const header of ['CC', 'BCC', 'x-death', 'x-delivery-count']) {
      await expect(out.sendMsg(Buffer.from('x'), { headers: { [header]: 'v' } })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('is reserved by this backend'),
      });
    }
  });
});
