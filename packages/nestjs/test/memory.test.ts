import { lastValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { MqRecord } from '../src/index.js';
import { deadLetterHeaders, names, ordersController, type Seen, startMicroservice, until } from './app.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()?.();
});

describe('a Nest microservice on memory://', () => {
  it('hands an emitted event to its @EventPattern handler, with the mq message in @Ctx(), and acks it', async () => {
    const queue = names('events');
    const seen: Seen[] = [];
    const { app, client } = await startMicroservice(
      { uri: `memory://${queue.events}` },
      { controllers: [ordersController(queue, seen)] },
    );
    closers.push(() => app.close());
    await lastValueFrom(client.emit(queue.events, { id: 1, items: ['a'] }));
    await lastValueFrom(
      client.emit(
        queue.events,
        new MqRecord({ id: 2 }, { headers: { tenant: 'acme' }, messageId: 'order-2' }),
      ),
    );
    await until(() => seen.length === 2, 'both events');
    expect(seen.map((s) => s.data)).toEqual([{ id: 1, items: ['a'] }, { id: 2 }]);
    expect(seen[1]?.message.headers.tenant).toBe('acme');
    expect(seen[1]?.message.messageId).toBe('order-2');
    expect(seen[0]?.pattern).toBe(queue.events);
  });

  it('retries a throwing handler behind the others, then dead-letters it after maxDeliveries', async () => {
    const queue = names('failures');
    const seen: Seen[] = [];
    const { app, client } = await startMicroservice(
      { uri: `memory://${queue.jobs}` },
      { controllers: [ordersController(queue, seen)] },
    );
    closers.push(() => app.close());
    for (const job of ['poison', 'flaky', 'good']) await lastValueFrom(client.emit(queue.jobs, job));
    await until(() => seen.some((s) => s.pattern === queue.dead), 'the dead letter');
    const jobs = seen.filter((s) => s.pattern === queue.jobs).map((s) => s.data);
    expect(jobs.filter((j) => j === 'poison')).toHaveLength(3);
    expect(jobs.filter((j) => j === 'flaky')).toHaveLength(2);
    expect(jobs.filter((j) => j === 'good')).toHaveLength(1);
    // The good job is not held up behind the failing ones.
    expect(jobs.indexOf('good')).toBeLessThan(jobs.lastIndexOf('poison'));
    const dead = seen.filter((s) => s.pattern === queue.dead);
    expect(dead.map((s) => s.data)).toEqual(['poison']);
    expect(deadLetterHeaders(dead[0]!.message)).toEqual({
      from: queue.jobs,
      deliveries: '3',
      error: 'cannot do poison',
    });
  });
});
