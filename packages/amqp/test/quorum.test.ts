import { type Message, MqError, waitForStatus } from '@mq/core';
import * as amqp from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { AmqpQueue } from '../src/index.js';
import { brokerUrl, deleteTopology, until } from './broker.js';
import { connected, queueName, sender } from './helpers.js';

// Quorum queues on the RabbitMQ under test (a single node runs them too). Every queue here is deleted after.
const made = new Set<string>();
afterAll(() => deleteTopology(made), 30_000);

function name(part: string): string {
  const q = queueName(part);
  made.add(q);
  return q;
}

/** Declares `queue` through plain amqplib, as another app (or an operator) would. */
async function declareRaw(queue: string, args?: Record<string, unknown>): Promise<void> {
  const model = await amqp.connect(brokerUrl());
  try {
    const channel = await model.createChannel();
    await channel.assertQueue(queue, { durable: true, ...(args ? { arguments: args } : {}) });
    await channel.close();
  } finally {
    await model.close();
  }
}

/** What plain amqplib's declare of `queue` as classic says: it fails when the queue is a quorum one. */
async function classicDeclareError(queue: string): Promise<string> {
  const model = await amqp.connect(brokerUrl());
  model.on('error', () => {});
  try {
    const channel = await model.createChannel();
    channel.on('error', () => {});
    await channel.assertQueue(queue, { durable: true });
    return 'none';
  } catch (error) {
    return (error as Error).message;
  } finally {
    await model.close().catch(() => {});
  }
}

describe('quorum queues', () => {
  it('declares x-queue-type quorum, and a backlog of 347 drains at prefetch 5 with every ack resolved', async () => {
    const q = name('quorum');
    const conn = await connected();
    const out = await sender(conn, { name: q, reliable: true, queueType: 'quorum' });
    const items = Array.from({ length: 347 }, (_, i) => `job-${i}`);
    await Promise.all(items.map((item) => out.sendMsg(Buffer.from(item))));
    expect(await classicDeclareError(q)).toMatch(/inequivalent arg 'x-queue-type'/);
    const acks: Promise<void>[] = [];
    const seen: string[] = [];
    const worker = new AmqpQueue(
      { name: q, isRecv: true, reliable: true, prefetch: 5, queueType: 'quorum' },
      await connected(),
    );
    worker.setMsgHandler((_queue, message) => {
      seen.push(message.payload.toString());
      acks.push(message.ack());
    });
    worker.connect();
    await until(() => seen.length >= items.length, 'the backlog');
    await Promise.all(acks);
    expect([...seen].sort()).toEqual([...items].sort());
    await worker.close();
    await (await connected()).close();
  });

  it('nack redelivers, and deliveryLimit 2 drops a message after its third delivery while the others flow', async () => {
    const q = name('limit');
    const conn = await connected();
    let poisonRuns = 0;
    const good: string[] = [];
    const worker = new AmqpQueue(
      { name: q, isRecv: true, reliable: true, prefetch: 1, queueType: 'quorum', deliveryLimit: 2 },
      conn,
    );
    worker.on('error', () => {});
    worker.setMsgHandler(async (_queue, message: Message) => {
      if (message.payload.toString() === 'poison') {
        poisonRuns += 1;
        await message.nack();
        return;
      }
      good.push(message.payload.toString());
      await message.ack();
    });
    worker.connect();
    await waitForStatus(worker, 'connected');
    const out = await sender(conn, { name: q, reliable: true, queueType: 'quorum', deliveryLimit: 2 });
    await out.sendMsg(Buffer.from('poison'));
    for (let i = 0; i < 5; i += 1) await out.sendMsg(Buffer.from(`good-${i}`));
    await until(() => good.length === 5, 'the good messages');
    await out.sendMsg(Buffer.from('marker'));
    await until(() => good.includes('marker'), 'the marker');
    expect(poisonRuns).toBe(3);
  });

  it('a classic sender on a quorum queue made by someone else reports INVALID_OPTIONS once, naming queueType, and recovers when it is fixed', async () => {
    const q = name('mismatch');
    await declareRaw(q, { 'x-queue-type': 'quorum' });
    const conn = await connected();
    const out = new AmqpQueue({ name: q, isRecv: false, reliable: true, reconnectMillis: 50 }, conn);
    const errors: MqError[] = [];
    out.on('error', (error) => errors.push(error));
    let attempts = 0;
    out.on('status', (status) => {
      if (status === 'connecting') attempts += 1;
    });
    out.connect();
    // Retries back off (50, 100, 200, 400 ms...): five attempts take about 1.5 s, with one error.
    await until(() => attempts >= 5, 'five attempts to open');
    expect(errors.map((e) => e.code)).toEqual(['INVALID_OPTIONS']);
    expect(errors[0]?.message).toMatch(
      new RegExp(
        `queue '${q.replace(/\./g, '\\.')}' exists on the broker with a different x-queue-type .*: set queueType to match it`,
      ),
    );
    expect(out.status).not.toBe('connected');
    await deleteTopology([q]);
    await waitForStatus(out, 'connected', { timeoutMillis: 10_000 });
    await out.sendMsg(Buffer.from('fixed'));
    expect(errors.length).toBe(1);
    await out.close();
  }, 20_000);

  it('a quorum receiver on a classic queue gets the same clear error, once', async () => {
    const q = name('classic');
    await declareRaw(q);
    const worker = new AmqpQueue(
      { name: q, isRecv: true, queueType: 'quorum', reconnectMillis: 50 },
      await connected(),
    );
    const errors: MqError[] = [];
    worker.on('error', (error) => errors.push(error));
    let attempts = 0;
    worker.on('status', (status) => {
      if (status === 'connecting') attempts += 1;
    });
    worker.setMsgHandler((_queue, message) => message.ack());
    worker.connect();
    await until(() => attempts >= 4, 'four attempts to open');
    expect(errors.map((e) => e.code)).toEqual(['INVALID_OPTIONS']);
    expect(errors[0]?.message).toMatch(/different x-queue-type .*set queueType to match it/);
    expect(MqError.isInstance(errors[0]?.cause) || errors[0]?.cause instanceof Error).toBe(true);
    await worker.close();
  });
});
