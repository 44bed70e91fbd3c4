import { amqpTestUrl } from '@mq/testkit';
import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import * as amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { MqHealthIndicator } from '../src/index.js';
import { names, startMicroservice, until } from './app.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()?.();
});

describe('MqHealthIndicator reads core health', () => {
  it('goes down on RabbitMQ while a receiver has no consumer (its queue deleted) though the connection stays up, then up again', async () => {
    const queue = names('health-consumer');
    @Controller()
    class Handlers {
      @EventPattern<string>(queue.events)
      onEvent(@Payload() _data: unknown): void {}
    }
    const { app } = await startMicroservice(
      { uri: amqpTestUrl(), queueDefaults: { reconnectMillis: 300 } },
      { controllers: [Handlers] },
    );
    closers.push(() => app.close());
    const mq = app.get(MqHealthIndicator);
    await until(() => mq.isHealthy().mq?.status === 'up', 'health up');
    const server = () => mq.isHealthy().mq?.transports.find((t) => t.name === 'server');
    expect(server()?.queues).toMatchObject([{ pattern: queue.events, side: 'receiver', attached: true }]);

    const plain = await amqp.connect(amqpTestUrl());
    closers.push(() => plain.close());
    const channel = await plain.createChannel();
    const seen: string[] = [];
    const sampler = setInterval(() => {
      const report = mq.isHealthy().mq;
      if (report?.status === 'down') seen.push(...report.problems);
    }, 1);
    closers.push(async () => clearInterval(sampler));
    await channel.deleteQueue(queue.events);
    await until(() => seen.length > 0, 'health down once the broker cancelled the consumer');
    // The connection itself never went down: only the receiver did.
    expect(seen.some((p) => p.startsWith('server: connection'))).toBe(false);
    expect(
      seen.some((p) => p.startsWith(`server: receiver '${queue.events}' has no consumer attached`)),
    ).toBe(true);
    await until(
      () => mq.isHealthy().mq?.status === 'up',
      'health up once the queue is declared and consumed again',
    );
    expect((await channel.checkQueue(queue.events)).consumerCount).toBe(1);
    await channel.deleteQueue(queue.events);
  });
});
