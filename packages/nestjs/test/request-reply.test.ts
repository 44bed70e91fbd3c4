import { MqError } from '@mq/core';
import { mqttTestUrl } from '@mq/testkit';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import { lastValueFrom, of } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { type MqContext, MqRecord } from '../src/index.js';
import { names, startMicroservice, until } from './app.js';
import { BACKENDS, plainConnection, plainQueue } from './backends.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()?.();
});

/** A controller answering on `<base>.sum`, `<base>.fail`, `<base>.refuse`, `<base>.stream`, `<base>.bytes`. */
function rpcController(base: string, calls: Map<string, number>) {
  const count = (pattern: string) => calls.set(pattern, (calls.get(pattern) ?? 0) + 1);
  @Controller()
  class RpcController {
    @MessagePattern<string>(`${base}.sum`)
    async sum(
      @Payload() numbers: number[],
      @Ctx() ctx: MqContext,
    ): Promise<{ sum: number; tenant?: string }> {
      count('sum');
      const tenant = ctx.getMessage().headers.tenant;
      return { sum: numbers.reduce((a, b) => a + b, 0), ...(tenant ? { tenant } : {}) };
    }

    @MessagePattern<string>(`${base}.fail`)
    fail(@Payload() _data: unknown): never {
      count('fail');
      throw new Error('the database is on fire');
    }

    @MessagePattern<string>(`${base}.refuse`)
    refuse(@Payload() data: { amount: number }): never {
      count('refuse');
      throw new RpcException({ code: 'LIMIT', limit: 100, asked: data.amount });
    }

    @MessagePattern<string>(`${base}.stream`)
    stream(@Payload() _data: unknown) {
      count('stream');
      return of(1, 2, 3);
    }

    @MessagePattern<string>(`${base}.nothing`)
    nothing(@Payload() _data: unknown): void {
      count('nothing');
    }

    @EventPattern<string>(`${base}.events`)
    onEvent(@Payload() _data: unknown): void {
      count('events');
    }
  }
  return RpcController;
}

describe.each(BACKENDS)('@MessagePattern and send() on %s', (_label, uriOf) => {
  it("send() yields the handler's result; concurrent requests each get their own; headers reach @Ctx()", async () => {
    const base = names('rpc').events;
    const calls = new Map<string, number>();
    const { app, client } = await startMicroservice(
      { uri: uriOf() },
      { controllers: [rpcController(base, calls)] },
    );
    closers.push(() => app.close());
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => lastValueFrom(client.send(`${base}.sum`, [i, i, 1]))),
    );
    expect(results).toEqual(Array.from({ length: 30 }, (_, i) => ({ sum: 2 * i + 1 })));
    const withHeaders = await lastValueFrom(
      client.send(`${base}.sum`, new MqRecord([2, 3], { headers: { tenant: 'acme' } })),
    );
    expect(withHeaders).toEqual({ sum: 5, tenant: 'acme' });
    // An observable's last value; a handler returning nothing completes send() with no value, as Nest's own do.
    expect(await lastValueFrom(client.send(`${base}.stream`, {}))).toBe(3);
    expect(await lastValueFrom(client.send(`${base}.nothing`, {}), { defaultValue: 'none' })).toBe('none');
    expect(calls.get('sum')).toBe(31);
  });

  it("a throwing handler's error reaches send() as Nest's exception filter made it, once: answered, not retried", async () => {
    const base = names('rpc-errors').events;
    const calls = new Map<string, number>();
    const { app, client } = await startMicroservice(
      { uri: uriOf(), queueDefaults: { retryDelayMillis: 20 } },
      { controllers: [rpcController(base, calls)] },
    );
    closers.push(() => app.close());
    const failed = await lastValueFrom(client.send(`${base}.fail`, {})).catch((e: unknown) => e);
    expect(failed).toEqual({ status: 'error', message: 'Internal server error' });
    const refused = await lastValueFrom(client.send(`${base}.refuse`, { amount: 500 })).catch(
      (e: unknown) => e,
    );
    expect(refused).toEqual({ code: 'LIMIT', limit: 100, asked: 500 });
    // Answered and acked: no retry comes (a later request on the same queue is served next, not a redelivery).
    expect(await lastValueFrom(client.send(`${base}.sum`, [1]))).toEqual({ sum: 1 });
    expect([calls.get('fail'), calls.get('refuse')]).toEqual([1, 1]);
  });

  it('plain mq apps interoperate both ways: queue.request() to a @MessagePattern, send() to message.reply()', async () => {
    const base = names('rpc-plain').events;
    const uri = uriOf();
    const calls = new Map<string, number>();
    const { app, client } = await startMicroservice({ uri }, { controllers: [rpcController(base, calls)] });
    closers.push(() => app.close());
    const { backend, connection } = await plainConnection(uri);
    closers.push(() => connection.close());
    const requester = await plainQueue(backend, connection, { name: `${base}.sum`, isRecv: false });
    const reply = await requester.request(Buffer.from(JSON.stringify([4, 5])));
    expect(JSON.parse(reply.payload.toString())).toEqual({ sum: 9 });
    expect(reply.contentType).toBe('application/json');

    await plainQueue(backend, connection, { name: `${base}.echo`, isRecv: true }, async (_q, message) => {
      await message.reply(Buffer.from(JSON.stringify({ echo: JSON.parse(message.payload.toString()) })));
      await message.ack();
    });
    expect(await lastValueFrom(client.send(`${base}.echo`, { hi: 1 }))).toEqual({ echo: { hi: 1 } });
  });

  it('send() errors with TIMEOUT when nobody answers within requestTimeoutMillis (NO_RECEIVER at once where MQTT 5 says nobody subscribes); unsubscribing aborts a request', async () => {
    const base = names('rpc-timeout').events;
    const calls = new Map<string, number>();
    const { app, client } = await startMicroservice(
      { uri: uriOf(), requestTimeoutMillis: 300 },
      { controllers: [rpcController(base, calls)] },
    );
    closers.push(() => app.close());
    const started = Date.now();
    const error = await lastValueFrom(client.send(`${base}.nobody`, {})).catch((e: unknown) => e);
    // Mosquitto (MQTT 5) answers a request nobody subscribes to with 'no matching subscribers': the request
    // rejects at once with NO_RECEIVER (issue #25.1); elsewhere it waits out requestTimeoutMillis.
    const expected = uriOf().startsWith('mqtt') ? 'NO_RECEIVER' : 'TIMEOUT';
    expect(MqError.isInstance(error) ? error.code : String(error)).toBe(expected);
    expect(Date.now() - started).toBeLessThan(5_000);
    const subscription = client.send(`${base}.nobody`, {}).subscribe({ error: () => {} });
    await until(() => client.health().queues.some((q) => q.pattern === `${base}.nobody`), 'the sender');
    subscription.unsubscribe();
    expect(await lastValueFrom(client.send(`${base}.sum`, [7]))).toEqual({ sum: 7 });
  });
});

describe('request/reply needs MQTT 5', () => {
  it('send() on an MQTT 3.1.1 connection errors with UNSUPPORTED saying why', async () => {
    const base = names('rpc-v311').events;
    const calls = new Map<string, number>();
    const { app, client } = await startMicroservice(
      { uri: mqttTestUrl(), connection: { protocolVersion: 4 } },
      { controllers: [rpcController(base, calls)] },
    );
    closers.push(() => app.close());
    const error = await lastValueFrom(client.send(`${base}.sum`, [1])).catch((e: unknown) => e);
    expect(MqError.hasCode(error, 'UNSUPPORTED')).toBe(true);
    expect((error as Error).message).toContain('MQTT 3.1.1');
  });
});
