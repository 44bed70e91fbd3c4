import { MqError } from '@mq/core';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { lastValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { type MqContext, MqEventPattern, MqModule, MqServer } from '../src/index.js';
import { names, startMicroservice, until } from './app.js';
import { BACKENDS, plainConnection } from './backends.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()?.();
});

type Got = [handler: string, topic: string | undefined, data: unknown];

/** `space` for orders (group billing), `<space>-pay` for payments (group ledger): MQTT takes one receiver per space and connection. */
function topicController(space: string, got: Got[]) {
  const record = (handler: string, ctx: MqContext, data: unknown) =>
    got.push([handler, ctx.getTopic(), data]);
  @Controller()
  class TopicController {
    @EventPattern<unknown>({ space, topic: 'orders.*.created' }, { group: 'billing' })
    created(@Payload() data: unknown, @Ctx() ctx: MqContext): void {
      record('created', ctx, data);
    }

    @EventPattern<unknown>({ space, topic: 'orders.eu.#' }, { group: 'billing' })
    europe(@Payload() data: unknown, @Ctx() ctx: MqContext): void {
      record('europe', ctx, data);
    }

    @MqEventPattern({ space: `${space}-pay`, topic: 'payments.*' }, { group: 'ledger' })
    payments(@Payload() data: unknown, @Ctx() ctx: MqContext): void {
      record('payments', ctx, data);
    }
  }
  return TopicController;
}

describe.each(BACKENDS)('@EventPattern topic patterns on %s', (_label, uriOf) => {
  it('routes each emitted topic to every handler whose pattern matches (one delivery per group), with the topic in @Ctx()', async () => {
    const space = names('topics').events;
    const got: Got[] = [];
    const uri = uriOf();
    const { app, client } = await startMicroservice({ uri }, { controllers: [topicController(space, got)] });
    closers.push(() => app.close());
    const emit = (topic: string, data: unknown) =>
      lastValueFrom(
        client.emit({ space: topic.startsWith('payments') ? `${space}-pay` : space, topic }, data),
      );
    await emit('orders.eu.created', 1);
    await emit('orders.us.created', 2);
    await emit('orders.eu.cancelled', 3);
    await emit('payments.card', 4);
    await emit('stock.moved', 5);
    // A plain mq topic sender reaches the same handlers.
    const { backend, connection } = await plainConnection(uri);
    closers.push(() => connection.close());
    const plain = backend.createQueue(
      { name: `${space}-pay`, isRecv: false, routing: 'topic', reliable: true },
      connection,
    );
    plain.connect();
    await until(() => plain.status === 'connected', 'the plain sender');
    await plain.sendMsg(Buffer.from('6'), { topic: 'payments.cash' });
    await until(() => got.length >= 6, `six handler calls, got ${JSON.stringify(got)}`);
    // Everything sent before the last one has arrived by now on one receiver per group; a moment for strays.
    await emit('payments.last', 'last');
    await until(() => got.some(([, topic]) => topic === 'payments.last'), 'the last one');
    const sorted = got
      .filter(([, topic]) => topic !== 'payments.last')
      .sort((a, b) => String(a).localeCompare(String(b)));
    expect(sorted).toEqual(
      [
        ['created', 'orders.eu.created', 1],
        ['europe', 'orders.eu.created', 1],
        ['created', 'orders.us.created', 2],
        ['europe', 'orders.eu.cancelled', 3],
        ['payments', 'payments.card', 4],
        ['payments', 'payments.cash', 6],
      ].sort((a, b) => String(a).localeCompare(String(b))),
    );
    const server = app.get(MqServer).health();
    expect(server.queues.map((q) => q.pattern).sort()).toEqual([
      `${space} (group billing)`,
      `${space}-pay (group ledger)`,
    ]);
    expect(server.queues.every((q) => q.attached === true)).toBe(true);
  });
});

describe.each(BACKENDS)('two instances of a service on %s', (_label, uriOf) => {
  it('share the messages of their group (each to one of them) while a broadcast handler in each gets every one', async () => {
    const space = names('topics-instances').events;
    const uri = uriOf();
    const got: [instance: number, handler: string, data: unknown][] = [];
    const instance = (index: number) => {
      @Controller()
      class Instance {
        @MqEventPattern({ space, topic: 'jobs.*' }, { group: 'workers' })
        work(@Payload() data: unknown): void {
          got.push([index, 'work', data]);
        }

        @MqEventPattern({ space: `${space}-all`, topic: 'jobs.*' }, { broadcast: true })
        watch(@Payload() data: unknown): void {
          got.push([index, 'watch', data]);
        }
      }
      return Instance;
    };
    const one = await startMicroservice({ uri }, { controllers: [instance(1)] });
    closers.push(() => one.app.close());
    const two = await startMicroservice({ uri }, { controllers: [instance(2)] });
    closers.push(() => two.app.close());
    const ids = Array.from({ length: 20 }, (_, i) => i);
    for (const id of ids) {
      await lastValueFrom(one.client.emit({ space, topic: `jobs.n${id % 3}` }, id));
      await lastValueFrom(one.client.emit({ space: `${space}-all`, topic: `jobs.n${id % 3}` }, id));
    }
    await until(() => got.filter(([, h]) => h === 'work').length >= 20, 'twenty jobs worked');
    await until(() => got.filter(([, h]) => h === 'watch').length >= 40, 'forty watched');
    const worked = got.filter(([, h]) => h === 'work');
    expect(worked.map(([, , d]) => d).sort((a, b) => Number(a) - Number(b))).toEqual(ids);
    expect(new Set(worked.map(([i]) => i)).size).toBe(2);
    for (const index of [1, 2]) {
      const watched = got.filter(([i, h]) => i === index && h === 'watch').map(([, , d]) => d);
      expect(watched.sort((a, b) => Number(a) - Number(b))).toEqual(ids);
    }
  });
});

describe('topic patterns refused', () => {
  it('a topic pattern without group or broadcast fails listen() with INVALID_OPTIONS naming the fix', async () => {
    const space = names('topics-nogroup').events;
    @Controller()
    class NoGroup {
      @EventPattern<unknown>({ space, topic: 'a.*' })
      onA(@Payload() _data: unknown): void {}
    }
    const moduleRef = await Test.createTestingModule({
      imports: [MqModule.forRoot({ uri: `memory://${space}` })],
      controllers: [NoGroup],
    }).compile();
    const app = moduleRef.createNestMicroservice({ strategy: moduleRef.get(MqServer), logger: false });
    closers.push(() => app.close());
    const error = await app.listen().catch((e: unknown) => e);
    expect(MqError.hasCode(error, 'INVALID_OPTIONS')).toBe(true);
    expect((error as Error).message).toContain('needs a group');
  });
});
