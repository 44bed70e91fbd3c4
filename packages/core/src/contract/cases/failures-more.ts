import { MQ_HEADERS } from '../../api/mq-headers.js';
import { check, checkEqual, checkSameList } from '../assert.js';
import type { Collector, ContractContext } from '../context.js';
import type { ContractCase } from '../types.js';
import { defineCase, sendAll } from './define.js';

/** The `mq-` headers a dead letter carries, and only those. */
const DEAD_LETTER_HEADERS = [
  MQ_HEADERS.deadLetterDeliveries,
  MQ_HEADERS.deadLetterError,
  MQ_HEADERS.deadLetterFrom,
  MQ_HEADERS.deadLetterTime,
].sort();

/** True once a handler run of `text` acked it, in `collector`. */
function ackedIn(collector: Collector, text: string): boolean {
  return collector.settlements.some((s) => s.verb === 'ack' && s.outcome === 'resolved' && s.text === text);
}

/** Resolves when `gate` opens or after the context's wait, whichever is first (a handler never blocks for ever). */
function waitForGate(ctx: ContractContext, gate: Promise<void>): Promise<void> {
  return Promise.race([gate, new Promise<void>((resolve) => setTimeout(resolve, ctx.waitMillis))]);
}

/** The failure policy beyond the basics: dead letters' headers, broadcast retries, retries that other receivers take. */
export const moreFailureCases: readonly ContractCase[] = [
  defineCase(
    'failures',
    'dead-letter-headers',
    'a dead letter carries the documented mq-dead-letter-from, -deliveries, -error and -time headers beside the application headers, and none of the headers the failure policy uses for retries',
    async (ctx) => {
      const name = ctx.name();
      const dead = ctx.name('dead');
      const { collector: dlq } = await ctx.receiver(await ctx.connection(), { name: dead, reliable: true });
      await ctx.receiver(
        await ctx.connection(),
        { name, reliable: true, retryDelayMillis: 0, maxDeliveries: 3, deadLetter: dead },
        () => {
          throw new Error('cannot handle it');
        },
      );
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      await send.sendMsg(Buffer.from('poison'), { headers: { tenant: 'acme', 'Trace-Id': 't-1' } });
      await dlq.untilCount(1, ctx.waitMillis);
      const headers = dlq.received[0]!.message.headers;
      const own = Object.keys(headers)
        .filter((key) => key.toLowerCase().startsWith('mq-'))
        .sort();
      checkSameList(own, DEAD_LETTER_HEADERS, "the dead letter's mq- headers");
      checkEqual(headers.tenant, 'acme', 'application header tenant');
      checkEqual(headers['Trace-Id'], 't-1', 'application header Trace-Id');
    },
    { requires: ['deadLetter', 'metadata', 'countsDeliveries'] },
  ),

  defineCase(
    'failures',
    'broadcast-retry-to-one',
    'a message whose handler fails on one broadcast receiver is retried to that receiver only: the other receivers get it once',
    async (ctx) => {
      const name = ctx.name();
      let failedOnce = false;
      const failing = await ctx.receiver(
        await ctx.connection(),
        { name, broadcast: true, reliable: true, retryDelayMillis: 50 },
        ({ text, message }) => {
          if (text === 'fails-once' && !failedOnce) {
            failedOnce = true;
            throw new Error('the first try fails');
          }
          return message.ack();
        },
      );
      const others = [];
      for (let i = 0; i < 2; i += 1) {
        others.push(
          (await ctx.receiver(await ctx.connection(), { name, broadcast: true, reliable: true })).collector,
        );
      }
      const send = await ctx.sender(await ctx.connection(), { name, broadcast: true, reliable: true });
      await sendAll(send, ['fails-once', 'after']);
      await ctx.poll(
        () => ackedIn(failing.collector, 'fails-once'),
        'the failing receiver to handle its retry',
      );
      for (const collector of others) await collector.untilText('after', ctx.waitMillis);
      await ctx.quiet();
      checkSameList(
        [...failing.collector.texts].sort(),
        ['after', 'fails-once', 'fails-once'],
        'what the failing receiver got (the failed message, then its retry)',
      );
      for (const [i, collector] of others.entries()) {
        checkSameList(collector.texts, ['fails-once', 'after'], `what receiver ${i} of the others got`);
      }
    },
    { requires: ['broadcast', 'broadcastRedelivery'] },
  ),

  defineCase(
    'failures',
    'retry-taken-by-another',
    'where retries go behind the messages waiting, a failed message is taken by another receiver of the queue while the one it failed on is busy with the next message',
    async (ctx) => {
      const name = ctx.name();
      let open: () => void = () => {};
      const retried = new Promise<void>((resolve) => {
        open = resolve;
      });
      const busyStarted: string[] = [];
      const first = await ctx.receiver(
        await ctx.connection(),
        { name, reliable: true, prefetch: 1, retryDelayMillis: 200 },
        async ({ text, message }) => {
          if (text === 'fails') throw new Error('fails on the first receiver');
          // Busy until the failed message was handled elsewhere (or for the context's wait, at most).
          busyStarted.push(text);
          await waitForGate(ctx, retried);
          return message.ack();
        },
      );
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      await sendAll(send, ['fails', 'busy']);
      // The retry went behind 'busy': the first receiver, free again, took 'busy' and holds it.
      await ctx.poll(() => busyStarted.includes('busy'), 'the first receiver to start on the next message');
      const other = await ctx.receiver(
        await ctx.connection(),
        { name, reliable: true, prefetch: 1, retryDelayMillis: 200 },
        async ({ text, message }) => {
          await message.ack();
          if (text === 'fails') open();
        },
      );
      await other.collector.untilText('fails', ctx.waitMillis);
      await ctx.poll(() => ackedIn(first.collector, 'busy'), 'the first receiver to finish the next message');
      await ctx.quiet();
      checkSameList(first.collector.texts, ['fails', 'busy'], 'what the first receiver got');
      checkSameList(other.collector.texts, ['fails'], 'what the other receiver got');
    },
    { requires: ['retriesBehind', 'retainUnicast'] },
  ),

  defineCase(
    'failures',
    'retry-survives-receiver',
    'a failed message waiting for its retry comes again at once to another receiver of the queue when its receiver closes before the retry is due, not once the delay is over',
    async (ctx) => {
      const name = ctx.name();
      const first = await ctx.receiver(
        await ctx.connection(),
        { name, reliable: true, retryDelayMillis: 60_000 },
        () => {
          throw new Error('fails on the first receiver');
        },
      );
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      await sendAll(send, ['waiting']);
      await ctx.poll(
        () => first.collector.errors.some((e) => e.code === 'HANDLER_FAILED'),
        'the failure on the first receiver',
      );
      // The retry is now waiting its minute (with the first receiver, or behind in the queue).
      await ctx.quiet();
      const other = await ctx.receiver(await ctx.connection(), {
        name,
        reliable: true,
        retryDelayMillis: 50,
      });
      const closedAt = Date.now();
      await first.queue.close();
      await other.collector.untilText('waiting', ctx.waitMillis);
      const after = Date.now() - closedAt;
      await ctx.quiet();
      checkEqual(first.collector.received.length, 1, 'handler runs on the first receiver');
      checkSameList(other.collector.texts, ['waiting'], 'what the other receiver got');
      check(after < 30_000, `the message came ${after} ms after the close, the retry was due in 60 s`);
    },
    { requires: ['redeliverUnacked'] },
  ),
];
