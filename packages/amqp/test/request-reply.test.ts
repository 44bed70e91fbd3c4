import { MqError, waitForStatus } from '@mq/core';
import * as amqp from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { type AmqpConnection, AmqpQueue } from '../src/index.js';
import {
  brokerUrl,
  deleteTopology,
  forceClose,
  listQueues,
  projectNode,
  skipNote,
  useNode,
} from './broker.js';
import { connected, queueName, sender } from './helpers.js';

// Request/reply on RabbitMQ through direct reply-to, and with plain amqplib on the other side, both ways.
const { node: projectBroker, skip } = projectNode();
if (projectBroker) useNode(projectBroker);

const made = new Set<string>();
const opened: Array<{ close(): Promise<void> }> = [];
afterAll(async () => {
  await Promise.allSettled(opened.map((one) => one.close()));
  await deleteTopology(made);
}, 30_000);

function name(part: string): string {
  const q = queueName(`rpc-${part}`);
  made.add(q);
  return q;
}

async function connection(): Promise<AmqpConnection> {
  const conn = await connected();
  opened.push(conn);
  return conn;
}

/** An mq server on `q` that answers `re:<payload>` with the request's headers echoed, then acks. */
async function server(q: string, reliable = false): Promise<AmqpQueue> {
  const queue = new AmqpQueue({ name: q, isRecv: true, reliable, reconnectMillis: 200 }, await connection());
  queue.setMsgHandler(async (_q, message) => {
    await message.reply(Buffer.from(`re:${message.payload.toString()}`), {
      headers: { echoed: message.headers.asked ?? '' },
      contentType: 'text/plain',
    });
    await message.ack();
  });
  queue.connect();
  await waitForStatus(queue, 'connected');
  return queue;
}

/** A plain amqplib connection, closed after the file. */
async function plain(): Promise<amqp.ChannelModel> {
  const model = await amqp.connect(brokerUrl());
  model.on('error', () => {});
  opened.push(model);
  return model;
}

describe('request/reply on RabbitMQ (direct reply-to)', () => {
  it('a plain amqplib client with replyTo amq.rabbitmq.reply-to and a correlationId gets its answer from an mq server', async () => {
    const q = name('plain-client');
    await server(q, true);
    const channel = await (await plain()).createChannel();
    const answers = new Map<string, amqp.ConsumeMessage>();
    await channel.consume(
      'amq.rabbitmq.reply-to',
      (message) => {
        if (message) answers.set(String(message.properties.correlationId), message);
      },
      { noAck: true },
    );
    for (const id of ['a', 'b', 'c']) {
      channel.sendToQueue(q, Buffer.from(`ask-${id}`), {
        replyTo: 'amq.rabbitmq.reply-to',
        correlationId: id,
        headers: { asked: id },
      });
    }
    const deadline = Date.now() + 10_000;
    while (answers.size < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    for (const id of ['a', 'b', 'c']) {
      const answer = answers.get(id);
      expect(answer?.content.toString()).toBe(`re:ask-${id}`);
      expect(answer?.properties.contentType).toBe('text/plain');
      expect(answer?.properties.headers).toMatchObject({ echoed: id });
    }
  });

  it('an mq client gets the answer of a plain amqplib server that publishes to replyTo with the correlationId', async () => {
    const q = name('plain-server');
    const channel = await (await plain()).createChannel();
    await channel.assertQueue(q, { durable: true });
    await channel.consume(q, (message) => {
      if (!message) return;
      const { replyTo, correlationId, headers } = message.properties;
      channel.sendToQueue(replyTo, Buffer.from(`plain:${message.content.toString()}`), {
        correlationId,
        headers: { seen: String(headers?.asked) },
        contentType: 'text/plain',
      });
      channel.ack(message);
    });
    const client = await sender(await connection(), { name: q, reliable: true });
    const replies = await Promise.all(
      ['x', 'y'].map((id) =>
        client.request(Buffer.from(id), { headers: { asked: id }, timeoutMillis: 10_000 }),
      ),
    );
    expect(replies.map((reply) => reply.payload.toString())).toEqual(['plain:x', 'plain:y']);
    expect(replies.map((reply) => reply.headers.seen)).toEqual(['x', 'y']);
    expect(replies[0]?.contentType).toBe('text/plain');
    expect(client.droppedReplies).toBe(0);
  });

  it('a request carries replyTo amq.rabbitmq.reply-to, its correlation id and its timeout (or a shorter expirationMillis) as expiration', async () => {
    const q = name('properties');
    const client = await sender(await connection(), { name: q, reliable: true });
    const channel = await (await plain()).createChannel();
    for (const [options, expiration] of [
      [{ timeoutMillis: 60_000 }, '60000'],
      [{ timeoutMillis: 60_000, expirationMillis: 5_000 }, '5000'],
    ] as const) {
      const controller = new AbortController();
      const pending = client.request(Buffer.from('nobody'), { ...options, signal: controller.signal });
      // No server: read the request with a plain client, as a server would see it.
      let got: amqp.GetMessage | false = false;
      const deadline = Date.now() + 10_000;
      while (got === false && Date.now() < deadline) {
        got = await channel.get(q, { noAck: true });
        if (got === false) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      if (got === false) throw new Error('the request never reached its queue');
      expect(got.properties.replyTo).toMatch(/^amq\.rabbitmq\.reply-to\./);
      expect(got.properties.expiration).toBe(expiration);
      expect(typeof got.properties.correlationId).toBe('string');
      controller.abort();
      await expect(pending).rejects.toSatisfy((error) => MqError.hasCode(error, 'ABORTED'));
    }
  });

  it('a sendMsg() with replyTo amq.rabbitmq.reply-to is refused INVALID_ARGUMENT (RabbitMQ would close the channel), and the sender keeps working', async () => {
    const q = name('direct-reply-to-by-hand');
    const client = await sender(await connection(), { name: q, reliable: true });
    const seen: string[] = [];
    client.on('status', (status) => seen.push(status));
    await expect(
      client.sendMsg(Buffer.from('x'), { replyTo: 'amq.rabbitmq.reply-to', correlationId: 'c' }),
    ).rejects.toSatisfy((error) => MqError.hasCode(error, 'INVALID_ARGUMENT'));
    await client.sendMsg(Buffer.from('y'), { replyTo: 'my.own.replies', correlationId: 'c' });
    expect(seen).toEqual([]);
  });

  describe.skipIf(skip !== undefined)(`on the project's own node${skipNote(skip)}`, () => {
    it('declares nothing for replies: after 50 requests the broker holds no queue of ours but the request queue', async () => {
      const q = name('nothing-left');
      await server(q);
      const client = await sender(await connection(), { name: q });
      const replies = await Promise.all(
        Array.from({ length: 50 }, (_, i) => client.request(Buffer.from(`n${i}`), { timeoutMillis: 10_000 })),
      );
      expect(replies.map((reply) => reply.payload.toString())).toEqual(
        Array.from({ length: 50 }, (_, i) => `re:n${i}`),
      );
      const prefix = q.slice(0, q.lastIndexOf('.'));
      expect([...(await listQueues(prefix, ['messages'])).keys()]).toEqual([q]);
      const replyQueues = await listQueues('amq.rabbitmq.reply-to', ['messages']);
      expect(replyQueues.size).toBe(0);
    });

    it('requests in flight when the broker closes the connection reject CONNECTION_LOST, and the reply consumer is back after the reconnect', async () => {
      const q = name('reconnect');
      let hold = true;
      const held: Array<() => void> = [];
      const srv = new AmqpQueue({ name: q, isRecv: true, reconnectMillis: 200 }, await connection());
      srv.setMsgHandler(async (_q, message) => {
        if (hold) await new Promise<void>((resolve) => held.push(resolve));
        await message.reply(Buffer.from(`re:${message.payload.toString()}`));
        await message.ack();
      });
      srv.connect();
      await waitForStatus(srv, 'connected');
      const conn = await connection();
      const client = await sender(conn, { name: q });
      const inFlight = client.request(Buffer.from('in-flight'), { timeoutMillis: 30_000 });
      inFlight.catch(() => {});
      const deadline = Date.now() + 10_000;
      while (held.length === 0 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 10));
      expect(held.length).toBe(1);
      const seen: string[] = [];
      client.on('status', (status) => seen.push(status));
      await forceClose(conn);
      await expect(inFlight).rejects.toSatisfy((error) => MqError.hasCode(error, 'CONNECTION_LOST'));
      await waitForStatus(client, 'connected', { timeoutMillis: 10_000 });
      expect(seen).toContain('disconnected');
      hold = false;
      for (const release of held) release();
      const after = await client.request(Buffer.from('after'), { timeoutMillis: 10_000 });
      expect(after.payload.toString()).toBe('re:after');
      await srv.close();
    });
  });
});
