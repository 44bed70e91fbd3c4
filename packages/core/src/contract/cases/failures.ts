import type { Connection } from '../../api/connection.js';
import { MQ_HEADERS } from '../../api/mq-headers.js';
import type { Queue } from '../../api/queue.js';
import { check, checkCode, checkEqual } from '../assert.js';
import type { Collector, ContractContext, Received } from '../context.js';
import type { ContractCase } from '../types.js';
import { defineCase, sendAll, texts } from './define.js';

/** Every handler run of a case, in order, with when it started. */
interface Run {
  text: string;
  at: number;
}

/** How many runs each text had. */
function runsOf(runs: readonly Run[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const run of runs) counts.set(run.text, (counts.get(run.text) ?? 0) + 1);
  return counts;
}

/** The texts whose ack resolved, each once. */
function acked(collector: Collector): Set<string> {
  return new Set(
    collector.settlements.filter((s) => s.verb === 'ack' && s.outcome === 'resolved').map((s) => s.text),
  );
}

/** Waits until every one of `items` was acked by `collector`. */
function untilAcked(ctx: ContractContext, collector: Collector, items: readonly string[]): Promise<void> {
  return ctx.poll(
    () => {
      const done = acked(collector);
      return items.every((item) => done.has(item));
    },
    () =>
      `all ${items.length} acked (acked ${items.filter((i) => acked(collector).has(i)).length}, received ${collector.received.length}, errors ${collector.errors.map((e) => e.code).join(',')})`,
    ctx.waitMillis * 2,
  );
}

/** Fails unless `errors` holds exactly `count` errors of `code`. */
function checkErrors(collector: Collector, code: string, count: number): void {
  const found = collector.errors.filter((e) => e.code === code);
  checkEqual(found.length, count, `${code} errors (all: ${collector.errors.map((e) => e.code).join(', ')})`);
  for (const error of found) checkCode(error, code, code);
}

/** A dead-letter receiver on its own connection, acking what it gets. */
async function deadLetterReceiver(ctx: ContractContext, name: string): Promise<Collector> {
  const { collector } = await ctx.receiver(await ctx.connection(), { name, reliable: true });
  return collector;
}

/** A receiver whose handler runs `handle` for each message, recording every run. */
async function failingReceiver(
  ctx: ContractContext,
  conn: Connection,
  options: Parameters<ContractContext['receiver']>[1],
  handle: (received: Received, runs: number) => Promise<void> | void,
): Promise<{ queue: Queue; collector: Collector; runs: Run[] }> {
  const runs: Run[] = [];
  const { queue, collector } = await ctx.receiver(conn, options, async (received) => {
    runs.push({ text: received.text, at: Date.now() });
    await handle(received, runs.filter((r) => r.text === received.text).length);
  });
  return { queue, collector, runs };
}

/** The failure policy's cases: retries that let the others flow, delivery limits, dead letters, ack deadlines. */
export const failureCases: readonly ContractCase[] = [
  defineCase(
    'failures',
    'throwing-handler-never-stalls',
    'at prefetch 1, a handler that throws once on some messages stalls nothing: the others are handled while they wait, and each comes again and is acked',
    async (ctx) => {
      const name = ctx.name();
      const items = texts('job', 41);
      const flaky = new Set(['job-0', 'job-13', 'job-27']);
      const { collector, runs } = await failingReceiver(
        ctx,
        await ctx.connection(),
        { name, reliable: true, prefetch: 1, retryDelayMillis: 100 },
        (received, run) => {
          if (flaky.has(received.text) && run === 1) throw new Error(`first try of ${received.text} fails`);
          return received.message.ack();
        },
      );
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      // All in flight together, so that every one is queued long before job-27 reaches the handler.
      const sent = await Promise.allSettled(items.map((item) => send.sendMsg(Buffer.from(item, 'latin1'))));
      checkEqual(sent.filter((o) => o.status === 'rejected').length, 0, 'sends that rejected');
      await untilAcked(ctx, collector, items);
      await ctx.quiet();
      const counts = runsOf(runs);
      for (const item of items) {
        checkEqual(counts.get(item), flaky.has(item) ? 2 : 1, `handler runs of ${item}`);
      }
      // While job-27 waited for its retry, the messages behind it went through the prefetch-1 receiver.
      const order = runs.map((r) => r.text);
      const retry = order.lastIndexOf('job-27');
      check(
        order.indexOf('job-28') < retry,
        `job-28 was handled before job-27's retry (order from job-26: ${order.slice(order.indexOf('job-26'), order.indexOf('job-26') + 6).join(', ')}, ...)`,
      );
      checkErrors(collector, 'HANDLER_FAILED', 3);
    },
  ),

  defineCase(
    'failures',
    'throwing-on-backlog',
    'a prefetch-1 worker that starts on a backlog and throws on its first deliveries retries them like any other, with no other error, and every message is acked',
    async (ctx) => {
      const name = ctx.name();
      const items = texts('job', 37);
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      await sendAll(send, items);
      const runs: Run[] = [];
      // Not waited for: the first deliveries come while the receiver is still connecting.
      const { collector } = ctx.startReceiver(
        await ctx.connection(),
        { name, reliable: true, prefetch: 1, retryDelayMillis: 50 },
        async (received) => {
          runs.push({ text: received.text, at: Date.now() });
          const run = runs.filter((r) => r.text === received.text).length;
          if (run === 1 && (received.text === 'job-0' || received.text === 'job-1')) {
            throw new Error(`first try of ${received.text} fails`);
          }
          await received.message.ack();
        },
      );
      await untilAcked(ctx, collector, items);
      await ctx.quiet();
      const counts = runsOf(runs);
      for (const item of items) {
        checkEqual(counts.get(item), item === 'job-0' || item === 'job-1' ? 2 : 1, `handler runs of ${item}`);
      }
      checkErrors(collector, 'HANDLER_FAILED', 2);
      checkEqual(collector.errors.length, 2, `errors (${collector.errors.map((e) => e.message).join('; ')})`);
    },
    { requires: ['retainUnicast'] },
  ),

  defineCase(
    'failures',
    'retry-delay-holds',
    'a failed message is handed out again no sooner than retryDelayMillis after its failure, each time',
    async (ctx) => {
      const name = ctx.name();
      const delay = 400;
      const { collector, runs } = await failingReceiver(
        ctx,
        await ctx.connection(),
        { name, reliable: true, retryDelayMillis: delay },
        (received, run) => {
          if (run < 3) throw new Error(`try ${run} fails`);
          return received.message.ack();
        },
      );
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      await sendAll(send, ['slow-retry']);
      await untilAcked(ctx, collector, ['slow-retry']);
      checkEqual(runs.length, 3, 'handler runs');
      for (let i = 1; i < runs.length; i += 1) {
        const gap = runs[i]!.at - runs[i - 1]!.at;
        // Loose bounds: timers may fire a little early; the upper bound only says it was not forgotten.
        check(gap >= delay - 50, `run ${i + 1} came ${gap} ms after run ${i}, retryDelayMillis is ${delay}`);
        check(
          gap < delay + 5_000,
          `run ${i + 1} came ${gap} ms after run ${i}: far beyond retryDelayMillis ${delay}`,
        );
      }
    },
  ),

  defineCase(
    'failures',
    'poison-to-dead-letter',
    'a message failing maxDeliveries times goes to the deadLetter queue with its metadata and why, after exactly that many handler runs, while the others flow',
    async (ctx) => {
      const name = ctx.name();
      const dead = ctx.name('dead');
      const dlq = await deadLetterReceiver(ctx, dead);
      const items = texts('job', 60);
      const poison = new Set(['job-7', 'job-44']);
      const { collector, runs } = await failingReceiver(
        ctx,
        await ctx.connection(),
        { name, reliable: true, prefetch: 5, retryDelayMillis: 0, maxDeliveries: 3, deadLetter: dead },
        (received) => {
          if (poison.has(received.text)) throw new Error(`cannot handle ${received.text}`);
          return received.message.ack();
        },
      );
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      for (const item of items) {
        await send.sendMsg(
          Buffer.from(item, 'latin1'),
          poison.has(item)
            ? { messageId: `id-${item}`, headers: { tenant: 'acme' }, contentType: 'text/plain' }
            : undefined,
        );
      }
      const healthy = items.filter((item) => !poison.has(item));
      await untilAcked(ctx, collector, healthy);
      await dlq.until(
        (c) => c.received.length >= poison.size,
        'the poison messages in the dead-letter queue',
        ctx.waitMillis,
      );
      await ctx.quiet();
      const counts = runsOf(runs);
      for (const item of items)
        checkEqual(counts.get(item), poison.has(item) ? 3 : 1, `handler runs of ${item}`);
      checkEqual(
        dlq.texts.sort().join(','),
        [...poison].sort().join(','),
        'the dead-letter queue holds each poison message once',
      );
      for (const { message, text } of dlq.received) {
        checkEqual(message.messageId, `id-${text}`, `${text}: message id kept`);
        checkEqual(message.contentType, 'text/plain', `${text}: content type kept`);
        checkEqual(message.headers.tenant, 'acme', `${text}: application header kept`);
        checkEqual(message.headers[MQ_HEADERS.deadLetterFrom], name, `${text}: ${MQ_HEADERS.deadLetterFrom}`);
        checkEqual(
          message.headers[MQ_HEADERS.deadLetterDeliveries],
          '3',
          `${text}: ${MQ_HEADERS.deadLetterDeliveries}`,
        );
        check(
          message.headers[MQ_HEADERS.deadLetterError]?.includes(`cannot handle ${text}`),
          `${text}: ${MQ_HEADERS.deadLetterError} says why, got ${message.headers[MQ_HEADERS.deadLetterError]}`,
        );
        check(
          !Number.isNaN(Date.parse(message.headers[MQ_HEADERS.deadLetterTime] ?? '')),
          `${text}: ${MQ_HEADERS.deadLetterTime} is a time`,
        );
      }
      checkErrors(collector, 'DEAD_LETTERED', poison.size);
      checkErrors(collector, 'HANDLER_FAILED', poison.size * 3);
    },
    { requires: ['deadLetter', 'metadata', 'countsDeliveries'] },
  ),

  defineCase(
    'failures',
    'drop-without-dead-letter',
    'without deadLetter, a message failing maxDeliveries times is dropped (DROPPED) after exactly that many runs, and the others flow',
    async (ctx) => {
      const name = ctx.name();
      const items = texts('job', 30);
      const { collector, runs } = await failingReceiver(
        ctx,
        await ctx.connection(),
        { name, reliable: true, prefetch: 1, retryDelayMillis: 0, maxDeliveries: 2 },
        (received) => {
          if (received.text === 'job-3') throw new Error('poison');
          return received.message.ack();
        },
      );
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      await sendAll(send, items);
      await untilAcked(
        ctx,
        collector,
        items.filter((item) => item !== 'job-3'),
      );
      await ctx.poll(() => collector.errors.some((e) => e.code === 'DROPPED'), 'the DROPPED error');
      await ctx.quiet();
      const counts = runsOf(runs);
      for (const item of items)
        checkEqual(counts.get(item), item === 'job-3' ? 2 : 1, `handler runs of ${item}`);
      checkErrors(collector, 'DROPPED', 1);
    },
    { requires: ['countsDeliveries'] },
  ),

  defineCase(
    'failures',
    'ack-timeout',
    'a handler that forgets to ack one message does not stall a prefetch-1 receiver when ackTimeoutMillis is set: that message counts as failed and comes again',
    async (ctx) => {
      const name = ctx.name();
      const items = texts('job', 25);
      const { collector, runs } = await failingReceiver(
        ctx,
        await ctx.connection(),
        { name, reliable: true, prefetch: 1, ackTimeoutMillis: 300, retryDelayMillis: 0 },
        (received, run) => {
          // Forgotten: neither acked nor nacked, and the handler returns normally; its nack long after the
          // deadline must do nothing (the message was taken over and retried already).
          if (received.text === 'job-2' && run === 1) {
            setTimeout(() => void received.message.nack(), 500);
            return;
          }
          return received.message.ack();
        },
      );
      const send = await ctx.sender(await ctx.connection(), { name });
      await sendAll(send, items);
      await untilAcked(ctx, collector, items);
      await ctx.poll(() => collector.settledCount('nack') === 1, 'the late nack');
      await ctx.quiet(600);
      const counts = runsOf(runs);
      for (const item of items)
        checkEqual(counts.get(item), item === 'job-2' ? 2 : 1, `handler runs of ${item}`);
      checkErrors(collector, 'HANDLER_FAILED', 1);
      check(
        collector.errors[0]?.message.includes('ackTimeoutMillis'),
        `the error names ackTimeoutMillis: ${collector.errors[0]?.message}`,
      );
    },
  ),

  defineCase(
    'failures',
    'leave-unacked',
    'with retryDelayMillis false a failed message is left unacked (not handed out again while the receiver lives) and comes again after it closes',
    async (ctx) => {
      const name = ctx.name();
      const first = await failingReceiver(
        ctx,
        await ctx.connection(),
        { name, reliable: true, retryDelayMillis: false },
        () => {
          throw new Error('handler bug');
        },
      );
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      await sendAll(send, ['fragile']);
      await first.collector.untilCount(1, ctx.waitMillis);
      await ctx.quiet(600);
      checkEqual(first.runs.length, 1, 'handler runs while the receiver lives');
      checkErrors(first.collector, 'HANDLER_FAILED', 1);
      const second = await ctx.receiver(await ctx.connection(), { name, reliable: true });
      await first.queue.close();
      await second.collector.untilText('fragile', ctx.waitMillis);
    },
    { requires: ['redeliverUnacked'] },
  ),

  defineCase(
    'failures',
    'link-drop-while-dead-lettering',
    'nothing is lost when the receiver link drops while poison messages are being moved to the dead-letter queue (as DEAD_LETTERED is reported: the copy stored, the original not yet acked): each arrives there (exactly once where movesExactlyOnce)',
    async (ctx) => {
      const name = ctx.name();
      const dead = ctx.name('dead');
      const dlq = await deadLetterReceiver(ctx, dead);
      const items = texts('poison', 60);
      const conn = await ctx.connection();
      const drop = ctx.target.faults?.dropConnection;
      check(drop, 'dropConnection fault hook');
      const { queue, collector } = await failingReceiver(
        ctx,
        conn,
        { name, reliable: true, prefetch: 20, retryDelayMillis: 0, maxDeliveries: 1, deadLetter: dead },
        () => {
          throw new Error('always fails');
        },
      );
      collector.allowSettleFailures();
      // The link drops at the exact moment: DEAD_LETTERED is reported once the copy is stored and before the
      // original is acked. The 5th, 20th and 35th such reports (or the next ones while the receiver is back).
      const drops: number[] = [];
      let reported = 0;
      queue.on('error', (error) => {
        if (error.code !== 'DEAD_LETTERED') return;
        reported += 1;
        const due = [5, 20, 35].filter((at) => reported >= at).length;
        if (drops.length >= due || queue.status !== 'connected') return;
        drops.push(reported);
        void drop(conn);
      });
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      await sendAll(send, items);
      await dlq.until(
        (c) => items.every((item) => c.texts.includes(item)),
        'every poison message in the dead-letter queue',
        ctx.waitMillis * 3,
      );
      // What the drops handed back comes once the receiver is back: wait for it, then a while.
      await ctx.waitStatus(queue, 'connected');
      await ctx.quiet();
      checkEqual(
        drops.length,
        3,
        `links dropped as DEAD_LETTERED was reported (at reports ${drops.join(', ')})`,
      );
      if (ctx.target.backend.capabilities.movesExactlyOnce === true) {
        const twice = items.filter((item) => dlq.texts.filter((text) => text === item).length > 1);
        checkEqual(
          dlq.received.length,
          items.length,
          `dead letters (movesExactlyOnce: no duplicates; twice: ${twice.slice(0, 5).join(', ')})`,
        );
      }
    },
    {
      requires: ['deadLetter', 'metadata', 'fault:dropConnection', 'redeliverUnacked'],
      timeoutMillis: 90_000,
    },
  ),
];
