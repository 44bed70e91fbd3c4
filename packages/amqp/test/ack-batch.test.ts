import { type Message, waitForStatus } from '@mq/core';
import * as amqp from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AckBatch } from '../src/ack-batch.js';
import { AmqpQueue } from '../src/index.js';
import { brokerUrl, until } from './broker.js';
import { connected, queueName, sender } from './helpers.js';

// The acks of one tick leave as one basic.ack with `multiple` (issue #29, plan C), against the real broker: the
// broker's own counts prove that every message was acked once and none was covered before the app settled it.

/** amqplib's `Channel.prototype` (a confirm channel's too), whose `ack` the tests count. */
type AckingPrototype = { ack(message: amqp.Message, allUpTo?: boolean): void };
let channelPrototype: AckingPrototype | undefined;
let originalAck: AckingPrototype['ack'] | undefined;
/** Every basic.ack amqplib wrote, with its `multiple` flag. */
let acks: { tag: number; multiple: boolean }[] = [];
beforeAll(async () => {
  // amqplib exports no classes: the prototype of a channel it made is Channel.prototype.
  const model = await amqp.connect(brokerUrl());
  const proto = Object.getPrototypeOf(await model.createChannel()) as AckingPrototype;
  await model.close();
  const ack = proto.ack;
  channelPrototype = proto;
  originalAck = ack;
  proto.ack = function counted(this: unknown, message, allUpTo) {
    acks.push({ tag: message.fields.deliveryTag, multiple: allUpTo === true });
    return ack.call(this, message, allUpTo);
  };
});
afterAll(() => {
  if (channelPrototype && originalAck) channelPrototype.ack = originalAck;
});
afterEach(() => {
  acks = [];
});

const names: string[] = [];
afterAll(async () => {
  const model = await amqp.connect(brokerUrl());
  const channel = await model.createChannel();
  for (const name of names) await channel.deleteQueue(name).catch(() => {});
  await model.close();
});

/** The broker's count of ready and unacked messages of `name`. */
async function brokerCounts(name: string): Promise<{ ready: number; consumers: number }> {
  const model = await amqp.connect(brokerUrl());
  try {
    const { messageCount, consumerCount } = await (await model.createChannel()).checkQueue(name);
    return { ready: messageCount, consumers: consumerCount };
  } finally {
    await model.close();
  }
}

/** A receiver whose handler is `handle`; the queue's errors are collected. */
async function receiverWith(
  name: string,
  prefetch: number,
  handle: (message: Message) => Promise<void> | undefined,
): Promise<{ queue: AmqpQueue; errors: Error[]; close(): Promise<void> }> {
  const conn = await connected();
  const queue = new AmqpQueue({ name, isRecv: true, prefetch, reconnectMillis: 200 }, conn);
  const errors: Error[] = [];
  queue.on('error', (error) => errors.push(error));
  queue.setMsgHandler((_q, message) => handle(message));
  queue.connect();
  await waitForStatus(queue, 'connected');
  return { queue, errors, close: () => conn.close() };
}

describe('AMQP acks of one tick leave together', () => {
  it('500 messages acked as they come leave in far fewer basic.acks, most with multiple; each acked once, none left', async () => {
    const name = queueName('ackbatch');
    names.push(name);
    const conn = await connected();
    const send = await sender(conn, { name, reliable: true });
    // A backlog first, so that deliveries come in bursts of the prefetch.
    const results = await Promise.allSettled(
      Array.from({ length: 500 }, (_, i) => send.sendMsg(Buffer.from(`m${i}`))),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const seen = new Map<string, number>();
    const ackResults: Promise<void>[] = [];
    const inbox = await receiverWith(name, 100, (message) => {
      const text = message.payload.toString();
      seen.set(text, (seen.get(text) ?? 0) + 1);
      const acked = message.ack();
      ackResults.push(acked);
      return acked;
    });
    await until(() => seen.size === 500, 'the 500 deliveries');
    await Promise.all(ackResults);
    await until(async () => (await brokerCounts(name)).ready === 0, 'an empty queue');
    // Reconnecting a consumer gets nothing: no message stayed unacked on the closed channel.
    await inbox.close();
    const again = await receiverWith(name, 100, () => undefined);
    await until(async () => (await brokerCounts(name)).consumers === 1, 'the new consumer');
    expect((await brokerCounts(name)).ready).toBe(0);
    await again.close();
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(inbox.errors).toEqual([]);
    expect(acks.length).toBeLessThan(100);
    expect(acks.filter((a) => a.multiple).length).toBeGreaterThan(0);
    await conn.close();
  }, 30_000);

  it('a message held while 300 later ones are acked is never covered by their multiple ack; acked last, nothing is redelivered', async () => {
    const name = queueName('ackbatch-held');
    names.push(name);
    const conn = await connected();
    const send = await sender(conn, { name, reliable: true });
    await Promise.all(Array.from({ length: 301 }, (_, i) => send.sendMsg(Buffer.from(`m${i}`))));
    let held: Message | undefined;
    const seen: string[] = [];
    const inbox = await receiverWith(name, 50, (message) => {
      seen.push(message.payload.toString());
      if (message.payload.toString() === 'm0') {
        held = message;
        return undefined;
      }
      return message.ack();
    });
    await until(() => seen.length === 301, 'the 301 deliveries');
    // m0 is still the broker's: unacked on the channel, which stays open (no unknown-tag error).
    const counts = await brokerCounts(name);
    expect(counts.ready).toBe(0);
    expect(inbox.queue.status).toBe('connected');
    await held?.ack();
    await inbox.close();
    // Had a multiple ack covered m0 early, or had m0's ack been lost, a new consumer would get it again.
    const later: string[] = [];
    const again = await receiverWith(name, 50, (message) => {
      later.push(message.payload.toString());
      return message.ack();
    });
    await until(async () => (await brokerCounts(name)).consumers === 1, 'the new consumer');
    expect((await brokerCounts(name)).ready).toBe(0);
    await again.close();
    expect(later).toEqual([]);
    expect(new Set(seen).size).toBe(301);
    expect(inbox.errors).toEqual([]);
    // m0's tag came first, so any multiple ack before its own would have covered it: there was none, and its own
    // ack came last, alone.
    const m0Ack = acks.findIndex((a) => a.tag === 1);
    expect(m0Ack).toBe(acks.length - 1);
    expect(acks[m0Ack]?.multiple).toBe(false);
    expect(acks.slice(0, m0Ack).filter((a) => a.multiple)).toEqual([]);
    expect(acks.length).toBe(301);
    await conn.close();
  }, 30_000);

  it('nacks among acks of the same ticks: each nacked message comes back once and is acked then; the channel never errs', async () => {
    const name = queueName('ackbatch-nack');
    names.push(name);
    const conn = await connected();
    const send = await sender(conn, { name, reliable: true });
    await Promise.all(Array.from({ length: 300 }, (_, i) => send.sendMsg(Buffer.from(`m${i}`))));
    const deliveries = new Map<string, number>();
    const settled: Promise<void>[] = [];
    const inbox = await receiverWith(name, 100, (message) => {
      const text = message.payload.toString();
      const n = (deliveries.get(text) ?? 0) + 1;
      deliveries.set(text, n);
      // Every third message is handed back on its first delivery, the rest acked.
      const result = Number(text.slice(1)) % 3 === 0 && n === 1 ? message.nack() : message.ack();
      settled.push(result);
      return result;
    });
    await until(
      () =>
        deliveries.size === 300 &&
        [...deliveries].every(([t, n]) => n === (Number(t.slice(1)) % 3 === 0 ? 2 : 1)),
      'every message, the nacked ones twice',
    );
    await Promise.all(settled);
    await until(async () => (await brokerCounts(name)).ready === 0, 'an empty queue');
    await inbox.close();
    const later: string[] = [];
    const again = await receiverWith(name, 100, (message) => {
      later.push(message.payload.toString());
      return message.ack();
    });
    await until(async () => (await brokerCounts(name)).consumers === 1, 'the new consumer');
    await again.close();
    expect(later).toEqual([]);
    expect(inbox.errors).toEqual([]);
    await conn.close();
  }, 30_000);

  it('acks queued when their channel closes before the flush write nothing and report the failure; the broker keeps the messages', async () => {
    const name = queueName('ackbatch-closed');
    names.push(name);
    const model = await amqp.connect(brokerUrl());
    try {
      const setup = await model.createConfirmChannel();
      await setup.assertQueue(name, { durable: true });
      for (let i = 0; i < 5; i += 1) setup.sendToQueue(name, Buffer.from(`m${i}`));
      await setup.waitForConfirms();
      const channel = await model.createChannel();
      const batch = new AckBatch(channel, (error) => error);
      channel.on('close', () => batch.close());
      const deliveries: amqp.ConsumeMessage[] = [];
      await channel.consume(name, (delivery) => {
        if (!delivery) return;
        batch.delivered(delivery);
        deliveries.push(delivery);
      });
      await until(() => deliveries.length === 5, 'the 5 deliveries');
      const outcomes = deliveries.map((delivery) =>
        batch.ack(delivery).then(
          () => 'sent',
          (error: unknown) => (error instanceof Error ? error.message : 'not an Error'),
        ),
      );
      // Closed in the same tick, before the flush (as the channel's 'close' event tells it): the acks' promises
      // must say that they were not sent.
      batch.close();
      await channel.close();
      expect(await Promise.all(outcomes)).toEqual(
        Array(5).fill('the channel closed before its acks were sent'),
      );
      await until(async () => (await brokerCounts(name)).ready === 5, 'the 5 messages ready again');
    } finally {
      await model.close();
    }
  }, 30_000);
});
