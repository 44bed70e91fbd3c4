import { check, checkEqual, checkSameList } from '../assert.js';
import type { Received } from '../context.js';
import type { ContractCase } from '../types.js';
import { defineCase, texts } from './define.js';

/** A backlog above the 1,000 messages some brokers keep per queue or session by default (Mosquitto's max_queued_messages). */
const LARGE_BACKLOG = 1_500;

/** Receivers that start together, and backlogs larger than brokers' default bounds. */
export const moreUnicastCases: readonly ContractCase[] = [
  defineCase(
    'unicast',
    'receivers-started-together',
    'two receivers of one name started at the same moment on one connection both receive, and each message reaches one of them',
    async (ctx) => {
      const name = ctx.name();
      const conn = await ctx.connection();
      // Each holds a message a little while, so that the other must take the next.
      const slowAck = async ({ message }: Received): Promise<void> => {
        await new Promise((resolve) => setTimeout(resolve, 10));
        await message.ack();
      };
      const started = [0, 1].map(() =>
        ctx.startReceiver(conn, { name, reliable: true, prefetch: 1 }, slowAck),
      );
      for (const { queue } of started) await ctx.waitStatus(queue, 'connected');
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      const items = texts('together', 40);
      const outcomes = await Promise.allSettled(
        items.map((item) => send.sendMsg(Buffer.from(item, 'latin1'))),
      );
      checkEqual(outcomes.filter((o) => o.status === 'rejected').length, 0, 'sends that rejected');
      const total = (): number => started.reduce((n, s) => n + s.collector.received.length, 0);
      await ctx.poll(
        () => total() >= items.length,
        () => `${items.length} messages over both (got ${total()})`,
      );
      await ctx.quiet();
      checkSameList(
        started.flatMap((s) => s.collector.texts).sort(),
        [...items].sort(),
        'what both got together, each message once',
      );
      for (const [i, { collector }] of started.entries()) {
        check(collector.received.length > 0, `receiver ${i} got some of the ${items.length} messages`);
      }
    },
    { requires: ['sameConnectionReceivers'] },
  ),

  defineCase(
    'unicast',
    'backlog-kept-whole',
    `a backlog of ${LARGE_BACKLOG.toLocaleString('en-US')} messages sent while no receiver exists is kept whole: a receiver that starts after the sender has gone gets every one of them, once`,
    async (ctx) => {
      const name = ctx.name();
      const items = texts('kept', LARGE_BACKLOG);
      const conn = await ctx.connection();
      const send = await ctx.sender(conn, { name, reliable: true });
      for (let from = 0; from < items.length; from += 100) {
        const batch = items.slice(from, from + 100);
        const outcomes = await Promise.allSettled(
          batch.map((item) => send.sendMsg(Buffer.from(item, 'latin1'))),
        );
        checkEqual(outcomes.filter((o) => o.status === 'rejected').length, 0, 'sends that rejected');
      }
      await conn.close();
      const { collector } = ctx.startReceiver(await ctx.connection(), { name, reliable: true }, 'ack-sync');
      await collector.until(
        (c) => new Set(c.texts).size >= items.length,
        `all ${items.length} messages`,
        ctx.waitMillis * 2,
      );
      await ctx.quiet();
      checkEqual(collector.received.length, items.length, 'messages received (twice counts twice)');
    },
    { requires: ['retainUnicast'] },
  ),
];
