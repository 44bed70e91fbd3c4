import {
  type ContractCase,
  ContractFailure,
  check,
  checkEqual,
  checkSameList,
  defineCase,
  sendAll,
  texts,
} from '@mq/core/contract';
import type { Redis } from 'ioredis';

/** Polls an asynchronous `predicate` until it holds, failing readably after `timeoutMillis`. */
async function until(predicate: () => Promise<boolean>, what: string, timeoutMillis: number): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  while (!(await predicate())) {
    if (Date.now() > deadline)
      throw new ContractFailure(`timed out after ${timeoutMillis} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Cases for what this backend promises beyond the shared contract; `admin` inspects Redis directly. */
export function redisCases(admin: Redis, keyPrefix: string): ContractCase[] {
  const depth = (name: string): Promise<number> => admin.llen(`${keyPrefix}q:${name}`);
  return [
    defineCase(
      'reliable',
      'redis-prefetch-bound',
      'a reliable receiver holds at most prefetch unacked messages; the rest stay in Redis for others',
      async (ctx) => {
        const name = ctx.name();
        const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
        const slow = await ctx.receiver(
          await ctx.connection(),
          { name, reliable: true, prefetch: 2 },
          'none',
        );
        await sendAll(send, texts('p', 5));
        await slow.collector.untilCount(2, ctx.waitMillis);
        await until(
          async () => (await depth(name)) === 3,
          'three messages left in the Redis list',
          ctx.waitMillis,
        );
        const fast = await ctx.receiver(await ctx.connection(), { name, reliable: true });
        await fast.collector.untilCount(3, ctx.waitMillis);
        checkEqual(slow.collector.received.length, 2, 'messages held by the prefetch-2 receiver');
        checkSameList(
          [...slow.collector.texts, ...fast.collector.texts].sort(),
          texts('p', 5).sort(),
          'all five, once each',
        );
      },
    ),
    defineCase(
      'reliable',
      'redis-unacked-survive-drop',
      'messages unacked when the link drops are delivered again once the receiver is back',
      async (ctx) => {
        const drop = ctx.target.faults?.dropConnection;
        check(drop, 'dropConnection fault hook');
        const name = ctx.name();
        const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
        const conn = await ctx.connection();
        let round = 0;
        const { queue, collector } = await ctx.receiver(conn, { name, reliable: true }, async (r) => {
          if (round > 0) await r.message.ack();
        });
        const items = texts('d', 3);
        await sendAll(send, items);
        await collector.untilCount(3, ctx.waitMillis);
        const seen = ctx.recordStatuses(queue);
        round = 1;
        await drop(conn);
        await ctx.poll(() => seen.includes('disconnected'), 'the receiver to go disconnected');
        await ctx.waitStatus(queue, 'connected');
        await collector.untilCount(6, ctx.waitMillis);
        checkSameList(collector.texts.slice(3).sort(), [...items].sort(), 'redelivered after the drop');
      },
      { requires: ['fault:dropConnection'] },
    ),
  ];
}
