import { type MqError, waitForStatus } from '@mq/core';
import { uniqueId } from '@mq/testkit';
import * as amqp from 'amqplib';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AmqpConnection, AmqpQueue } from '../src/index.js';
import { brokerUrl, deleteTopology, until } from './broker.js';
import { connected, queueName, receiver, sender } from './helpers.js';

// Topic routing against plain amqplib, both ways (issue 27): a topic space is a durable topic exchange of its
// name, the topic the routing key, a group the durable queue `<space>:<group>`.

const queues: string[] = [];
const exchanges: string[] = [];
afterAll(() => deleteTopology(queues, exchanges), 30_000);

let plain: amqp.ChannelModel;
let channel: amqp.ConfirmChannel;
let conn: AmqpConnection;

beforeEach(async () => {
  plain = await amqp.connect(brokerUrl());
  plain.on('error', () => {});
  channel = await plain.createConfirmChannel();
  channel.on('error', () => {});
  conn = await connected();
});

afterEach(async () => {
  await conn.close();
  await plain.close().catch(() => {});
});

/** A unique topic space, deleted after the file. */
function space(part: string): string {
  const name = queueName(part);
  exchanges.push(name);
  return name;
}

describe('topic routing interoperates with plain amqplib', () => {
  it('plain amqplib publishing to topic exchange orders with key eu.created reaches an mq receiver of *.created, with its topic', async () => {
    const orders = space('orders');
    queues.push(`${orders}:billing`);
    const inbox = await receiver(conn, {
      name: orders,
      routing: 'topic',
      topics: ['*.created'],
      group: 'billing',
    });
    // The same declaration a plain app makes: no precondition failure, the exchange is mq's.
    await channel.assertExchange(orders, 'topic', { durable: true });
    for (const [key, text] of [
      ['eu.created', 'a'],
      ['eu.deleted', 'b'],
      ['us.created', 'c'],
    ] as const) {
      channel.publish(orders, key, Buffer.from(text), { persistent: true });
    }
    await channel.waitForConfirms();
    await until(() => inbox.texts.length >= 2, 'two messages');
    expect(inbox.texts).toEqual(['a', 'c']);
    expect(inbox.messages.map((m) => m.topic)).toEqual(['eu.created', 'us.created']);
    const { messageCount, consumerCount } = await channel.checkQueue(`${orders}:billing`);
    expect({ messageCount, consumerCount }).toEqual({ messageCount: 0, consumerCount: 1 });
  });

  it('an mq topic sender reaches a plain amqplib consumer bound with *.created, routing key eu.created', async () => {
    const orders = space('orders');
    const send = await sender(conn, { name: orders, routing: 'topic', reliable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, orders, '*.created');
    const got: amqp.ConsumeMessage[] = [];
    await channel.consume(queue, (message) => message && got.push(message), { noAck: true });
    await send.sendMsg(Buffer.from('x'), { topic: 'eu.deleted' });
    await send.sendMsg(Buffer.from('y'), { topic: 'eu.created' });
    await until(() => got.length >= 1, 'the matching message');
    const [only] = got;
    expect(only?.content.toString()).toBe('y');
    expect(only?.fields).toMatchObject({ exchange: orders, routingKey: 'eu.created' });
    // The exchange is durable and of type topic: a plain passive check and an equal declaration both succeed.
    await channel.checkExchange(orders);
    await channel.assertExchange(orders, 'topic', { durable: true });
    await send.close();
  });

  it('a topic message the handler failed on is retried with its topic (the copy goes through the default exchange, the topic in mq-topic)', async () => {
    const orders = space('orders');
    queues.push(`${orders}:g`);
    const queue = new AmqpQueue(
      { name: orders, isRecv: true, routing: 'topic', topics: ['eu.*'], group: 'g', retryDelayMillis: 0 },
      conn,
    );
    const seen: Array<{ topic: string | undefined; redelivered: boolean }> = [];
    const errors: string[] = [];
    queue.on('error', (error) => errors.push(error.code));
    queue.setMsgHandler(async (_q, message) => {
      seen.push({ topic: message.topic, redelivered: message.redelivered });
      if (seen.length === 1) throw new Error('first delivery fails');
      await message.ack();
    });
    queue.connect();
    await waitForStatus(queue, 'connected');
    const send = await sender(conn, { name: orders, routing: 'topic', reliable: true });
    await send.sendMsg(Buffer.from('r'), { topic: 'eu.retried' });
    await until(() => seen.length >= 2, 'the retry');
    expect(seen).toEqual([
      { topic: 'eu.retried', redelivered: false },
      { topic: 'eu.retried', redelivered: true },
    ]);
    expect(errors).toEqual(['HANDLER_FAILED']);
    await queue.close();
  });

  it('declare: false attaches to a topic exchange someone else declared: a missing one is one NOT_FOUND, then plain publishes reach the group', async () => {
    const space = `Legacy:Orders/${uniqueId('X')}`;
    exchanges.push(space);
    queues.push(`${space}:billing`);
    const queue = new AmqpQueue(
      {
        name: space,
        isRecv: true,
        routing: 'topic',
        topics: ['*.created'],
        group: 'billing',
        declare: false,
        reconnectMillis: 50,
      },
      conn,
    );
    const errors: MqError[] = [];
    let attempts = 0;
    queue.on('error', (error) => errors.push(error));
    queue.on('status', (status) => {
      if (status === 'connecting') attempts += 1;
    });
    const got: Array<string | undefined> = [];
    queue.setMsgHandler(async (_q, message) => {
      got.push(message.topic);
      await message.ack();
    });
    queue.connect();
    await until(() => attempts >= 4, 'four attempts to open');
    expect(errors.map((e) => e.code)).toEqual(['NOT_FOUND']);
    expect(errors[0]?.message).toContain(`exchange '${space}' does not exist on the broker (declare: false)`);
    // Declared by its owner with arguments mq would not have given it (auto-delete off, an alternate exchange).
    await channel.assertExchange(space, 'topic', { durable: true, alternateExchange: 'amq.fanout' });
    await waitForStatus(queue, 'connected', { timeoutMillis: 10_000 });
    channel.publish(space, 'eu.created', Buffer.from('o1'));
    await channel.waitForConfirms();
    await until(() => got.length === 1, 'the message');
    expect(got).toEqual(['eu.created']);
    await queue.close();
  }, 20_000);

  it('a topic space and a broadcast queue of one name cannot share the exchange: INVALID_OPTIONS names it', async () => {
    const name = space('clash');
    await sender(conn, { name, broadcast: true });
    const clash = await connected();
    try {
      const queue = new AmqpQueue({ name, isRecv: false, routing: 'topic' }, clash);
      const errors: Error[] = [];
      queue.on('error', (error) => errors.push(error));
      queue.connect();
      await until(() => errors.length > 0, 'the refusal');
      expect(errors[0]).toMatchObject({ code: 'INVALID_OPTIONS' });
      expect(errors[0]?.message).toContain(name);
      await queue.close();
    } finally {
      await clash.close();
    }
  });
});
