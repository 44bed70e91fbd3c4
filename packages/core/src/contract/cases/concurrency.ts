import { check, checkEqual, checkSameList } from '../assert.js';
import type { ContractCase } from '../types.js';
import { defineCase, texts } from './define.js';

/** Many things at once: nothing lost, nothing duplicated, nothing wedged. */
export const concurrencyCases: ContractCase[] = [
  defineCase(
    'concurrency',
    'fifty-senders',
    '50 concurrent senders of 20 messages each: the receiver gets all 1000 exactly once',
    async (ctx) => {
      const name = ctx.name();
      const { collector } = await ctx.receiver(await ctx.connection(), { name, reliable: true });
      const conns = [await ctx.connection(), await ctx.connection()];
      const senders = await Promise.all(
        Array.from({ length: 50 }, (_, i) => ctx.sender(conns[i % conns.length]!, { name, reliable: true })),
      );
      await Promise.all(
        senders.map(async (send, s) => {
          for (const item of texts(`s${s}`, 20)) await send.sendMsg(Buffer.from(item));
        }),
      );
      await collector.untilCount(1000, ctx.waitMillis * 2);
      await senders[0]!.sendMsg(Buffer.from('end'));
      await collector.untilText('end', ctx.waitMillis);
      const got = collector.texts.filter((t) => t !== 'end');
      checkEqual(new Set(got).size, 1000, 'distinct messages');
      checkEqual(got.length, 1000, 'messages (duplicates count twice)');
    },
    { timeoutMillis: 60_000 },
  ),

  defineCase(
    'concurrency',
    'many-in-flight',
    '1000 reliable sends in flight at once on one queue all resolve and all arrive once',
    async (ctx) => {
      const name = ctx.name();
      const { collector } = await ctx.receiver(await ctx.connection(), { name, reliable: true });
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      const items = texts('f', 1000);
      await Promise.all(items.map((item) => send.sendMsg(Buffer.from(item))));
      await collector.untilCount(items.length, ctx.waitMillis * 2);
      checkSameList([...collector.texts].sort(), [...items].sort(), 'received');
    },
  ),

  defineCase(
    'concurrency',
    'queue-connect-close-cycles',
    'concurrent connect()/close() cycles on a queue leave it usable',
    async (ctx) => {
      const conn = await ctx.connection();
      const name = ctx.name();
      const { collector } = await ctx.receiver(conn, { name });
      const send = ctx.newQueue(conn, { name, isRecv: false });
      const closes: Promise<void>[] = [];
      for (let i = 0; i < 10; i += 1) {
        send.connect();
        if (i % 3 === 0) await new Promise((resolve) => setImmediate(resolve));
        closes.push(send.close());
      }
      await Promise.all(closes);
      checkEqual(send.status, 'closed', 'status after the cycles');
      send.connect();
      await ctx.waitStatus(send, 'connected');
      await send.sendMsg(Buffer.from('usable'));
      await collector.untilText('usable', ctx.waitMillis);
    },
  ),

  defineCase(
    'concurrency',
    'connection-connect-close-cycles',
    'concurrent connect()/close() cycles on a connection leave it usable',
    async (ctx) => {
      const conn = ctx.newConnection();
      const closes: Promise<void>[] = [];
      for (let i = 0; i < 10; i += 1) {
        conn.connect();
        if (i % 3 === 1) await new Promise((resolve) => setTimeout(resolve, 1));
        closes.push(conn.close());
      }
      await Promise.all(closes);
      checkEqual(conn.status, 'closed', 'status after the cycles');
      conn.connect();
      await ctx.waitStatus(conn, 'connected');
      const name = ctx.name();
      const { collector } = await ctx.receiver(conn, { name });
      const send = await ctx.sender(conn, { name });
      await send.sendMsg(Buffer.from('usable'));
      await collector.untilText('usable', ctx.waitMillis);
      check(collector.errors.length === 0, 'no queue errors');
    },
  ),
];
