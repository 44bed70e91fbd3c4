import * as amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import { brokerUrl, until } from './broker.js';
import { connected, queueName, receiver, sender } from './helpers.js';

describe('health() on RabbitMQ', () => {
  it('says a receiver is attached exactly while the broker lists its consumer, and not after the queue is deleted', async () => {
    const name = queueName('health-attached');
    const conn = await connected({ reconnectMillis: 200 });
    const plain = await amqp.connect(brokerUrl());
    try {
      const inbox = await receiver(conn, { name, reliable: true });
      const health = () => inbox.queue.health();
      expect(health()).toMatchObject({ isRecv: true, status: 'connected', attached: true });
      const channel = await plain.createChannel();
      expect((await channel.checkQueue(name)).consumerCount).toBe(1);

      // Deleting the queue makes the broker cancel the consumer: not attached until mq has declared it again.
      const seen: boolean[] = [];
      const sampler = setInterval(() => seen.push(health().attached === true), 1);
      await channel.deleteQueue(name);
      await until(() => seen.includes(false), 'health to say the consumer is gone');
      await until(() => health().attached === true, 'the receiver to be attached again');
      clearInterval(sampler);
      expect((await channel.checkQueue(name)).consumerCount).toBe(1);
      await channel.close();
    } finally {
      await plain.close();
      await conn.close();
    }
  });

  it('counts sends in flight, ages the last delivery, and lists the queues on connection.health()', async () => {
    const name = queueName('health-counts');
    const conn = await connected();
    try {
      const inbox = await receiver(conn, { name, reliable: true });
      const send = await sender(conn, { name, reliable: true });
      expect(inbox.queue.health().lastDeliveryAgeMillis).toBeUndefined();
      const sends = Array.from({ length: 20 }, (_, i) => send.sendMsg(Buffer.from(`m${i}`)));
      expect(send.health().sendsInFlight).toBeGreaterThan(0);
      await Promise.all(sends);
      expect(send.health()).toMatchObject({ isRecv: false, attached: undefined, sendsInFlight: 0 });
      await until(() => inbox.texts.length === 20, 'the 20 messages');
      const age = inbox.queue.health().lastDeliveryAgeMillis;
      expect(age).toBeGreaterThanOrEqual(0);
      expect(age).toBeLessThan(10_000);

      const overall = conn.health();
      expect(overall).toMatchObject({ status: 'connected', linkUp: true, lastError: undefined });
      expect(overall.address).not.toContain('guest:guest');
      expect(overall.queues.map((queue) => [queue.name, queue.isRecv]).sort()).toEqual(
        [
          [name, false],
          [name, true],
        ].sort(),
      );
      await inbox.queue.close();
      expect(inbox.queue.health()).toMatchObject({ status: 'closed', attached: false });
      expect(conn.health().queues).toHaveLength(1);
    } finally {
      await conn.close();
    }
    expect(conn.health()).toMatchObject({ status: 'closed', linkUp: false, queues: [] });
  });
});
