import type { Message } from '../../api/message.js';
import { checkEqual, checkSameList } from '../assert.js';
import type { Received } from '../context.js';
import type { ContractCase } from '../types.js';
import { defineCase, sendAll, texts } from './define.js';

/** Messages in a deep backlog: thousands, far beyond any prefetch and any broker's default queue bound (1,000). */
const DEEP = 2_500;

/** Fails unless `got` is `items` in order, saying where the order first breaks. */
function checkInOrder(got: readonly string[], items: readonly string[], what: string): void {
  const at = items.findIndex((item, i) => got[i] !== item);
  checkEqual(
    at < 0 && got.length === items.length
      ? 'in order'
      : `from position ${at}: ${got.slice(at, at + 5).join(', ')}`,
    'in order',
    `${what} (${got.length} of ${items.length} received)`,
  );
}

/** Order: through deep queues, and for messages handed back. */
export const orderCases: readonly ContractCase[] = [
  defineCase(
    'order',
    'deep-backlog',
    `${DEEP.toLocaleString('en-US')} messages waiting for a receiver arrive in the order they were sent, each once, at prefetch 1 and at prefetch 100`,
    async (ctx) => {
      await Promise.all(
        [1, 100].map(async (prefetch) => {
          const name = ctx.name(`prefetch-${prefetch}`);
          const items = texts('deep', DEEP);
          await sendAll(await ctx.sender(await ctx.connection(), { name, reliable: true }), items);
          const { collector } = ctx.startReceiver(
            await ctx.connection(),
            { name, reliable: true, prefetch },
            'ack-sync',
          );
          await collector.untilCount(items.length, ctx.waitMillis * 3);
          await ctx.quiet();
          checkInOrder(collector.texts, items, `what a receiver with prefetch ${prefetch} got`);
        }),
      );
    },
    { requires: ['retainUnicast'], timeoutMillis: 90_000 },
  ),

  defineCase(
    'order',
    'nacked-in-order',
    'messages a receiver nacks in the order it got them come again in that order',
    async (ctx) => {
      const name = ctx.name();
      const items = texts('nacked', 5);
      const firsts: Message[] = [];
      const again: string[] = [];
      await ctx.receiver(await ctx.connection(), { name, reliable: true, prefetch: items.length }, (r) => {
        if (r.message.redelivered || firsts.length >= items.length) {
          again.push(r.text);
          return r.message.ack();
        }
        firsts.push(r.message);
        if (firsts.length < items.length) return undefined;
        // All held: nack each in turn, in the order they came.
        return Promise.all(firsts.map((message) => message.nack())).then(() => {});
      });
      await sendAll(await ctx.sender(await ctx.connection(), { name, reliable: true }), items);
      await ctx.poll(
        () => again.length >= items.length,
        () => `the ${items.length} nacked messages again (got ${again.length})`,
      );
      await ctx.quiet();
      checkSameList(again, items, 'the order the nacked messages came again in');
    },
    { requires: ['nackRequeue'] },
  ),

  defineCase(
    'order',
    'handed-back-in-order',
    'messages a receiver held unacked come again to the next receiver in the order they were sent, whether it closed or broke out of its messages() loop',
    async (ctx) => {
      const name = ctx.name();
      const items = texts('held', 10);
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      const holder = await ctx.receiver(
        await ctx.connection(),
        { name, reliable: true, prefetch: 10 },
        'none',
      );
      await sendAll(send, items);
      await holder.collector.untilCount(items.length, ctx.waitMillis);
      await holder.queue.close();
      const looped = ctx.newQueue(await ctx.connection(), {
        name,
        isRecv: true,
        reliable: true,
        prefetch: 10,
      });
      const loopGot: string[] = [];
      for await (const message of looped.messages()) {
        loopGot.push(message.payload.toString('latin1'));
        if (loopGot.length === items.length) break;
      }
      checkSameList(loopGot, items, 'what came again after close(), in order');
      const last = await ctx.receiver(await ctx.connection(), { name, reliable: true, prefetch: 10 });
      await last.collector.untilCount(items.length, ctx.waitMillis);
      await ctx.quiet();
      checkSameList(
        last.collector.received.map((r: Received) => r.text),
        items,
        'what came again after break, in order',
      );
    },
    { requires: ['redeliverUnacked'] },
  ),
];
