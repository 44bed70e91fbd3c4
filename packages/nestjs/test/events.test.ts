import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { lastValueFrom, Observable } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { MqEventPattern, MqRecord } from '../src/index.js';
import { deadLetterHeaders, names, ordersController, type Seen, startMicroservice, until } from './app.js';
import { BACKENDS, plainConnection, plainQueue } from './backends.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()?.();
});

describe.each(BACKENDS)('a Nest microservice on %s', (_label, uriOf) => {
  it('hands each emitted event to its @EventPattern handler once, with the mq message in @Ctx()', async () => {
    const queue = names('events');
    const seen: Seen[] = [];
    const { app, client } = await startMicroservice(
      { uri: uriOf() },
      { controllers: [ordersController(queue, seen)] },
    );
    closers.push(() => app.close());
    const sent = Array.from({ length: 20 }, (_, i) => ({ id: i, at: 'nest' }));
    await Promise.all(sent.map((order) => lastValueFrom(client.emit(queue.events, order))));
    await lastValueFrom(
      client.emit(
        queue.events,
        new MqRecord({ id: 'meta' }, { headers: { tenant: 'acme' }, messageId: 'm-1' }),
      ),
    );
    await until(() => seen.length === 21, '21 events');
    const byId = new Map(seen.map((s) => [(s.data as { id: unknown }).id, s]));
    expect(byId.size).toBe(21);
    expect(byId.get('meta')?.message.headers.tenant).toBe('acme');
    expect(byId.get('meta')?.message.messageId).toBe('m-1');
    expect(seen.every((s) => s.pattern === queue.events && s.message.redelivered === false)).toBe(true);
  });

  it('retries a throwing handler behind the others, then dead-letters it with the error it threw', async () => {
    const queue = names('failures');
    const seen: Seen[] = [];
    const { app, client } = await startMicroservice(
      { uri: uriOf() },
      { controllers: [ordersController(queue, seen)] },
    );
    closers.push(() => app.close());
    for (const job of ['poison', 'flaky', 'good']) await lastValueFrom(client.emit(queue.jobs, job));
    await until(() => seen.some((s) => s.pattern === queue.dead), 'the dead letter');
    await until(() => seen.filter((s) => s.data === 'flaky').length === 2, 'the flaky job done');
    const jobs = seen.filter((s) => s.pattern === queue.jobs).map((s) => s.data);
    expect(jobs.filter((j) => j === 'poison')).toHaveLength(3);
    expect(jobs.filter((j) => j === 'good')).toHaveLength(1);
    expect(jobs.indexOf('good')).toBeLessThan(jobs.lastIndexOf('poison'));
    const dead = seen.filter((s) => s.pattern === queue.dead);
    expect(dead.map((s) => s.data)).toEqual(['poison']);
    expect(deadLetterHeaders(dead[0]!.message)).toEqual({
      from: queue.jobs,
      deliveries: '3',
      error: 'cannot do poison',
    });
  });

  it('talks with plain mq apps both ways: JSON in, JSON out; bytes that are not JSON reach the handlers as bytes', async () => {
    const queue = names('interop');
    const seen: Seen[] = [];
    const uri = uriOf();
    const { app, client } = await startMicroservice(
      { uri },
      { controllers: [ordersController(queue, seen)] },
    );
    closers.push(() => app.close());
    const { backend, connection } = await plainConnection(uri);
    closers.push(() => connection.close());
    const sender = await plainQueue(backend, connection, { name: queue.events, isRecv: false });
    await sender.sendMsg(Buffer.from('{"from":"plain"}'));
    const jobs = await plainQueue(backend, connection, { name: queue.jobs, isRecv: false });
    await jobs.sendMsg(Buffer.from('not json'));
    await until(() => seen.some((s) => s.pattern === queue.events), 'the plain sender’s event');
    expect(seen.find((s) => s.pattern === queue.events)?.data).toEqual({ from: 'plain' });
    await until(
      () => seen.some((s) => s.pattern === queue.dead),
      'the bytes that are not JSON, dead-lettered',
    );
    const dead = seen.find((s) => s.pattern === queue.dead);
    expect(dead?.data).toEqual(Buffer.from('not json'));
    expect(deadLetterHeaders(dead!.message).error).toBe('expected JSON, got bytes');

    const plainOut = names('interop-out');
    const got: string[] = [];
    await plainQueue(backend, connection, { name: plainOut.events, isRecv: true }, async (_q, message) => {
      got.push(message.payload.toString());
      await message.ack();
    });
    await lastValueFrom(client.emit(plainOut.events, { to: 'plain', n: [1, 2] }));
    await until(() => got.length === 1, 'the plain receiver');
    expect(got).toEqual(['{"to":"plain","n":[1,2]}']);
  });

  it('acks an observable handler once it completes, and fails the message when it errors', async () => {
    const queue = names('observable');
    const completed: unknown[] = [];
    let failures = 0;
    @Controller()
    class StreamController {
      @MqEventPattern(queue.events, { retryDelayMillis: 20 })
      onEvent(@Payload() data: { fail: boolean }): Observable<number> {
        return new Observable<number>((subscriber) => {
          const timer = setTimeout(() => {
            if (data.fail && failures === 0) {
              failures += 1;
              subscriber.error(new Error('stream failed'));
            } else {
              completed.push(data);
              subscriber.next(1);
              subscriber.complete();
            }
          }, 20);
          return () => clearTimeout(timer);
        });
      }
    }
    const { app, client } = await startMicroservice({ uri: uriOf() }, { controllers: [StreamController] });
    closers.push(() => app.close());
    await lastValueFrom(client.emit(queue.events, { fail: false }));
    await lastValueFrom(client.emit(queue.events, { fail: true }));
    await until(() => completed.length === 2, 'both streams completed');
    expect(failures).toBe(1);
  });
});
