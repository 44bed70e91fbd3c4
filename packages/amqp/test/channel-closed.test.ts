import { type MqError, waitForStatus } from '@mq/core';
import { amqpTestUrl } from '@mq/testkit';
import * as amqp from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { AmqpQueue } from '../src/index.js';
import { deleteTopology, until } from './broker.js';
import { connected, queueName, receiver, sender, statuses } from './helpers.js';

const queues: string[] = [];
const exchanges: string[] = [];
afterAll(() => deleteTopology(queues, exchanges), 30_000);

describe('a channel the broker closes', () => {
  it('is reported as an error and reopened, without taking down the connection or the other queues', async () => {
    const name = queueName('chan-closed');
    exchanges.push(name);
    queues.push(name);
    const conn = await connected();
    try {
      const fanSend = await sender(conn, { name, broadcast: true, reliable: true });
      const uni = await receiver(conn, { name, reliable: true });
      const uniSend = await sender(conn, { name, reliable: true });
      const errors: MqError[] = [];
      fanSend.on('error', (error) => errors.push(error));
      const connSeen = statuses(conn);
      const sendSeen = statuses(fanSend);
      const othersSeen = [uni.queue, uniSend].map(statuses);

      // Someone deletes the exchange: publishing to it makes the broker close the channel (404 NOT_FOUND).
      await deleteTopology([], [name]);
      const outcome = await fanSend.sendMsg(Buffer.from('into the void')).then(
        () => 'resolved',
        (error: unknown) => (error as MqError).code,
      );
      expect(['resolved', 'CONNECTION_LOST']).toContain(outcome);
      await until(() => sendSeen.includes('disconnected'), 'the sender to lose its channel');
      await waitForStatus(fanSend, 'connected');

      expect(errors.some((e) => e.code === 'BROKER' && e.message.includes('NOT_FOUND'))).toBe(true);
      expect(connSeen).toEqual([]);
      for (const seen of othersSeen) expect(seen).toEqual([]);
      // It declared the exchange again and works; so does the queue next to it.
      const broadcastReceiver = await receiver(conn, { name, broadcast: true });
      await fanSend.sendMsg(Buffer.from('fan-again'));
      await uniSend.sendMsg(Buffer.from('uni-still'));
      await until(() => broadcastReceiver.texts.includes('fan-again'), 'the broadcast after reopening');
      await until(() => uni.texts.includes('uni-still'), 'the unicast message');
    } finally {
      await conn.close();
    }
  });

  it('a receiver whose queue is deleted (consumer cancelled) declares it again and keeps consuming', async () => {
    const name = queueName('cancelled');
    queues.push(name);
    const conn = await connected();
    try {
      const inbox = await receiver(conn, { name, reliable: true });
      const send = await sender(conn, { name, reliable: true });
      const seen = statuses(inbox.queue);
      // As an operator deleting it would; over AMQP, so that no broker tool is needed.
      const admin = await amqp.connect(amqpTestUrl());
      await (await admin.createChannel()).deleteQueue(name);
      await admin.close();
      await until(() => seen.includes('disconnected'), 'the receiver to notice the cancel');
      await waitForStatus(inbox.queue, 'connected');
      await send.sendMsg(Buffer.from('after-delete'));
      await until(() => inbox.texts.includes('after-delete'), 'a message into the re-declared queue');
      expect(inbox.errors.some((e) => e.message.includes('cancelled'))).toBe(true);
      expect(conn.status).toBe('connected');
    } finally {
      await conn.close();
    }
  });

  it('a precondition failure on open (the name taken with other arguments) is reported once as INVALID_OPTIONS and retried until fixed', async () => {
    const name = queueName('precondition');
    queues.push(name);
    const plain = await amqp.connect(amqpTestUrl());
    plain.on('error', () => {});
    const conn = await connected();
    try {
      const channel = await plain.createChannel();
      channel.on('error', () => {});
      await channel.assertQueue(name, { durable: false, autoDelete: false });
      const send = new AmqpQueue({ name, isRecv: false, reconnectMillis: 100 }, conn);
      const errors: MqError[] = [];
      send.on('error', (error) => errors.push(error));
      let attempts = 0;
      send.on('status', (status) => {
        if (status === 'connecting') attempts += 1;
      });
      send.connect();
      await until(() => attempts >= 3, 'three attempts');
      expect(errors.map((e) => e.code)).toEqual(['INVALID_OPTIONS']);
      expect(errors[0]!.message).toMatch(
        /exists on the broker with a different durable \(inequivalent arg 'durable'.*\): it was declared by another app with other arguments; use another name, attach to it as it is with declare: false, or delete it on the broker/,
      );
      expect(conn.status).toBe('connected');
      await channel.deleteQueue(name);
      await waitForStatus(send, 'connected');
      await send.close();
    } finally {
      await conn.close();
      await plain.close().catch(() => {});
    }
  });
});
