import type { Queue } from '../../api/queue.js';
import { checkEqual } from '../assert.js';
import type { Collector, ContractContext } from '../context.js';
import type { ContractCase } from '../types.js';
import { defineCase, texts } from './define.js';

/** The documented default of `QueueOptions.prefetch`. */
const DEFAULT_PREFETCH = 100;

/** Sends every text at once and fails unless every send resolved. */
async function sendAtOnce(send: Queue, items: readonly string[]): Promise<void> {
  const outcomes = await Promise.allSettled(items.map((item) => send.sendMsg(Buffer.from(item, 'latin1'))));
  checkEqual(outcomes.filter((o) => o.status === 'rejected').length, 0, 'sends that rejected');
}

/** Waits until each collector holds at least its count, then a quiet while, and checks each holds exactly that. */
async function checkHolding(
  ctx: ContractContext,
  holding: ReadonlyArray<{ collector: Collector; count: number; what: string }>,
): Promise<void> {
  for (const { collector, count } of holding) await collector.untilCount(count, ctx.waitMillis);
  // "No more than that" can only be seen by giving an over-eager backend time to deliver more.
  await ctx.quiet();
  for (const { collector, count, what } of holding) {
    checkEqual(collector.received.length, count, `messages ${what} holds unacked`);
  }
}

/** How far `prefetch` reaches: per receiver, and by default. */
export const prefetchCases: readonly ContractCase[] = [
  defineCase(
    'reliable',
    'prefetch-per-receiver',
    'prefetch bounds each receiver, not its connection: receivers on one connection that do not ack each hold exactly their own prefetch (two of one name too, where receivers can share a connection)',
    async (ctx) => {
      const conn = await ctx.connection();
      const sharing = ctx.target.backend.capabilities.sameConnectionReceivers === true;
      const plan = [
        { name: ctx.name('three'), prefetches: [3] },
        { name: ctx.name('five'), prefetches: [5] },
        ...(sharing ? [{ name: ctx.name('shared'), prefetches: [2, 4] }] : []),
      ];
      const holding: Array<{ collector: Collector; count: number; what: string }> = [];
      for (const { name, prefetches } of plan) {
        for (const prefetch of prefetches) {
          const { collector } = await ctx.receiver(conn, { name, reliable: true, prefetch }, 'none');
          holding.push({
            collector,
            count: prefetch,
            what: `the receiver of ${name} with prefetch ${prefetch}`,
          });
        }
      }
      const sender = await ctx.connection();
      for (const { name } of plan) {
        await sendAtOnce(await ctx.sender(sender, { name, reliable: true }), texts('p', 12));
      }
      await checkHolding(ctx, holding);
    },
    { requires: ['prefetch'] },
  ),

  defineCase(
    'reliable',
    'default-prefetch-bounds',
    `a receiver given no prefetch holds the default ${DEFAULT_PREFETCH} unacked messages and no more`,
    async (ctx) => {
      const name = ctx.name();
      const { collector } = await ctx.receiver(
        await ctx.connection(),
        { name, reliable: true, prefetch: null },
        'none',
      );
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      await sendAtOnce(send, texts('d', DEFAULT_PREFETCH + 37));
      await checkHolding(ctx, [{ collector, count: DEFAULT_PREFETCH, what: 'a receiver given no prefetch' }]);
    },
    { requires: ['prefetch'] },
  ),
];
