import { MqError } from '../../api/errors.js';
import type { Queue } from '../../api/queue.js';
import { check, checkEqual, checkSameList } from '../assert.js';
import type { Collector, ContractContext, Received, Settle } from '../context.js';
import type { ContractCase } from '../types.js';
import { defineCase, texts } from './define.js';

/**
 * Messages in a backlog: far above every prefetch the cases use and a multiple of none of them, so that an
 * off-by-one in a prefetch window or a batch cannot line up with it.
 */
const BACKLOG = 347;

/** Sends every text at once (reliable sends in flight together) and fails unless every send resolved. */
async function sendBacklog(send: Queue, items: readonly string[]): Promise<void> {
  const outcomes = await Promise.allSettled(items.map((item) => send.sendMsg(Buffer.from(item, 'latin1'))));
  const failed = outcomes.filter((o) => o.status === 'rejected').length;
  checkEqual(failed, 0, `sends of the backlog that rejected (of ${items.length})`);
}

/** The texts whose ack resolved. */
function ackedTexts(collector: Collector): Set<string> {
  const acked = new Set<string>();
  for (const s of collector.settlements) if (s.verb === 'ack' && s.outcome === 'resolved') acked.add(s.text);
  return acked;
}

/** Waits until every one of `items` was acked (the ack resolved) by one of `collectors`. */
function untilAllAcked(
  ctx: ContractContext,
  collectors: readonly Collector[],
  items: readonly string[],
): Promise<void> {
  return ctx.poll(
    () => {
      const acked = new Set(collectors.flatMap((c) => [...ackedTexts(c)]));
      return items.every((item) => acked.has(item));
    },
    () => {
      const acked = new Set(collectors.flatMap((c) => [...ackedTexts(c)]));
      const received = collectors.reduce((n, c) => n + c.received.length, 0);
      const failed = collectors.reduce((n, c) => n + c.failedSettlements.length, 0);
      return `all ${items.length} messages acked (acked ${items.filter((i) => acked.has(i)).length}, received ${received}, acks rejected ${failed})`;
    },
    ctx.waitMillis * 2,
  );
}

/**
 * Closes `receivers`, then shows that nothing was left unacked in queue `name`: a fresh receiver gets a
 * marker sent after them and nothing else (what a closed receiver left unacked comes back before the marker).
 */
export async function expectDrained(
  ctx: ContractContext,
  name: string,
  receivers: readonly Queue[],
): Promise<void> {
  for (const queue of receivers) await queue.close();
  const conn = await ctx.connection();
  const { collector } = await ctx.receiver(conn, { name, reliable: true });
  const send = await ctx.sender(conn, { name, reliable: true });
  const marker = ctx.name('drained');
  await send.sendMsg(Buffer.from(marker));
  await collector.untilText(marker, ctx.waitMillis);
  await ctx.quiet();
  checkSameList(collector.texts, [marker], 'what a fresh receiver found in the queue after the case');
}

/** A backlog of {@link BACKLOG} waits; then one receiver with `prefetch` starts and settles as `settle` says. */
function backlogCase(shortName: string, title: string, prefetch: number, settle: Settle): ContractCase {
  return defineCase(
    'workload',
    shortName,
    title,
    async (ctx) => {
      const name = ctx.name();
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      const items = texts('job', BACKLOG);
      await sendBacklog(send, items);
      const { queue, collector } = ctx.startReceiver(
        await ctx.connection(),
        { name, reliable: true, prefetch },
        settle,
      );
      await untilAllAcked(ctx, [collector], items);
      checkEqual(collector.failedSettlements.length, 0, 'acks that rejected');
      await expectDrained(ctx, name, [queue]);
    },
    { requires: ['retainUnicast', 'redeliverUnacked'], timeoutMillis: 60_000 },
  );
}

/**
 * Streams reliable messages `tick-0`, `tick-1`, ... with a few sends in flight at a time; after the first 100,
 * `join` starts a receiver, and the stream goes on until that receiver is connected and has received 50
 * messages sent after that (and at least {@link BACKLOG} were sent). Returns every text sent and the index of
 * the first one sent once the receiver was connected.
 */
async function streamWhileJoining(
  ctx: ContractContext,
  send: Queue,
  join: () => { queue: Queue; collector: Collector },
): Promise<{ queue: Queue; collector: Collector; sent: string[]; firstAfterJoin: number }> {
  const sent: string[] = [];
  let joined: { queue: Queue; collector: Collector } | undefined;
  let firstAfterJoin = -1;
  const failures: Array<{ index: number; error: unknown }> = [];
  const deadline = Date.now() + ctx.waitMillis;
  const enough = (): boolean => {
    if (sent.length < BACKLOG || !joined || firstAfterJoin < 0) return false;
    const after = new Set(sent.slice(firstAfterJoin));
    return joined.collector.texts.filter((t) => after.has(t)).length >= 50;
  };
  const worker = async (): Promise<void> => {
    while (!enough() && Date.now() < deadline) {
      const index = sent.length;
      if (index === 100) joined = join();
      if (firstAfterJoin < 0 && joined?.queue.status === 'connected') firstAfterJoin = index;
      const text = `tick-${index}`;
      sent.push(text);
      try {
        await send.sendMsg(Buffer.from(text, 'latin1'));
      } catch (error) {
        failures.push({ index, error });
      }
      // A send that resolves without I/O (an in-process broker) must not starve the deliveries it causes.
      if (index % 16 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  // Where nothing keeps a unicast message for a receiver to come, a broker may say it discarded one sent before
  // the receiver was there (MQTT 5's "no matching subscribers"): NO_RECEIVER then, never a silent resolve.
  const retained = ctx.target.backend.capabilities.retainUnicast;
  const rejected = failures.filter(
    ({ index, error }) =>
      retained || !(MqError.hasCode(error, 'NO_RECEIVER') && (firstAfterJoin < 0 || index < firstAfterJoin)),
  );
  checkEqual(rejected.length, 0, 'sends of the stream that rejected');
  check(joined !== undefined && firstAfterJoin >= 0, 'the receiver was connected while the stream ran');
  check(enough(), `the receiver got 50 messages of the stream within ${ctx.waitMillis} ms`);
  return { ...joined, sent, firstAfterJoin };
}

/** Messages the small-prefetch cases send: over 40 times {@link SMALL_PREFETCH}, and a multiple of neither it nor 50. */
const MANY = 125;
/** The prefetch of the small-prefetch cases. */
const SMALL_PREFETCH = 3;

/**
 * A receiver with prefetch {@link SMALL_PREFETCH} that acks each message at once, reliable and best effort side by
 * side: each gets all {@link MANY} messages, in order. A window an ack does not open again (a best-effort ack that
 * does nothing, say) stalls it at the prefetch.
 */
async function smallPrefetchCase(ctx: ContractContext, broadcast: boolean): Promise<void> {
  await Promise.all(
    [true, false].map(async (reliable) => {
      const name = ctx.name(reliable ? 'reliable' : 'best-effort');
      const { collector } = await ctx.receiver(await ctx.connection(), {
        name,
        broadcast,
        reliable,
        prefetch: SMALL_PREFETCH,
      });
      const send = await ctx.sender(await ctx.connection(), { name, broadcast, reliable });
      const items = texts(reliable ? 'reliable' : 'best-effort', MANY);
      for (const item of items) await send.sendMsg(Buffer.from(item, 'latin1'));
      await collector.untilCount(items.length, ctx.waitMillis);
      await ctx.quiet();
      // The runner then checks that every one of the acks resolved.
      checkSameList(collector.texts, items, `what the ${reliable ? 'reliable' : 'best-effort'} receiver got`);
    }),
  );
}

/** Real workloads: backlogs, bursts, several workers starting at once, late joiners, reconnects, slow acks. */
export const workloadCases: ContractCase[] = [
  backlogCase(
    'backlog-ack-at-once-prefetch-1',
    'a backlog waits, then a receiver with prefetch 1 starts and acks each message at once: every ack resolves and the queue drains',
    1,
    'ack-sync',
  ),
  backlogCase(
    'backlog-ack-at-once-prefetch-5',
    'a backlog waits, then a receiver with prefetch 5 starts and acks each message at once: every ack resolves and the queue drains',
    5,
    'ack-sync',
  ),
  backlogCase(
    'backlog-ack-at-once-prefetch-50',
    'a backlog waits, then a receiver with prefetch 50 starts and acks each message at once: every ack resolves and the queue drains',
    50,
    'ack-sync',
  ),
  backlogCase(
    'backlog-ack-in-microtask',
    'a backlog waits, then a receiver with prefetch 5 starts and acks each message in a microtask after its handler returned: every ack resolves and the queue drains',
    5,
    'ack-microtask',
  ),

  defineCase(
    'workload',
    'backlog-receivers-start-together',
    'three receivers start at the same moment on one backlog: each message is handled once, every ack resolves and the queue drains',
    async (ctx) => {
      const name = ctx.name();
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      const items = texts('job', BACKLOG);
      await sendBacklog(send, items);
      const conns = await Promise.all([ctx.connection(), ctx.connection(), ctx.connection()]);
      const started = conns.map((conn) =>
        ctx.startReceiver(conn, { name, reliable: true, prefetch: 5 }, 'ack-sync'),
      );
      const collectors = started.map((s) => s.collector);
      await untilAllAcked(ctx, collectors, items);
      // A duplicate can come after the last ack: count once the receivers have been quiet for a while.
      await ctx.quiet();
      const handled = collectors.flatMap((c) => c.texts);
      checkEqual(
        handled.length,
        items.length,
        'messages handled in all (a message handled twice counts twice)',
      );
      checkEqual(new Set(handled).size, items.length, 'distinct messages handled');
      await expectDrained(
        ctx,
        name,
        started.map((s) => s.queue),
      );
    },
    { requires: ['retainUnicast', 'redeliverUnacked'], timeoutMillis: 60_000 },
  ),

  defineCase(
    'workload',
    'broadcast-join-live-stream',
    'a broadcast receiver that joins while a sender streams and acks each message at once: every ack resolves and it gets every message sent after it was connected',
    async (ctx) => {
      const name = ctx.name();
      const conn = await ctx.connection();
      const send = await ctx.sender(conn, { name, broadcast: true, reliable: true });
      const { collector, sent, firstAfterJoin } = await streamWhileJoining(ctx, send, () =>
        ctx.startReceiver(conn, { name, broadcast: true, reliable: true, prefetch: 5 }, 'ack-sync'),
      );
      await untilAllAcked(ctx, [collector], sent.slice(firstAfterJoin));
      checkEqual(collector.failedSettlements.length, 0, 'acks that rejected');
      checkEqual(new Set(collector.texts).size, collector.texts.length, 'messages delivered twice');
    },
    { requires: ['broadcast'], timeoutMillis: 60_000 },
  ),

  defineCase(
    'workload',
    'unicast-join-live-stream',
    'a receiver that starts while a sender streams and acks each message at once: every ack resolves and it gets every message sent after it was connected',
    async (ctx) => {
      const name = ctx.name();
      const conn = await ctx.connection();
      const send = await ctx.sender(conn, { name, reliable: true });
      const { collector, sent, firstAfterJoin } = await streamWhileJoining(ctx, send, () =>
        ctx.startReceiver(conn, { name, reliable: true, prefetch: 5 }, 'ack-sync'),
      );
      const retained = ctx.target.backend.capabilities.retainUnicast;
      // Where unicast messages are kept for the first receiver, it gets the messages sent before it joined too.
      await untilAllAcked(ctx, [collector], retained ? sent : sent.slice(firstAfterJoin));
      checkEqual(collector.failedSettlements.length, 0, 'acks that rejected');
      checkEqual(new Set(collector.texts).size, collector.texts.length, 'messages delivered twice');
    },
    { timeoutMillis: 60_000 },
  ),

  defineCase(
    'workload',
    'reconnect-with-backlog',
    'a receiver holding unacked messages loses its link while a backlog waits: afterwards the held messages come again, it drains the queue and every ack resolves',
    async (ctx) => {
      const drop = ctx.target.faults?.dropConnection;
      check(drop, 'dropConnection fault hook');
      const name = ctx.name();
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      const items = texts('job', BACKLOG);
      await sendBacklog(send, items);
      const held: Received[] = [];
      let holding = true;
      const conn = await ctx.connection();
      const { queue, collector } = ctx.startReceiver(conn, { name, reliable: true, prefetch: 5 }, (r) => {
        if (holding) held.push(r);
        else void r.message.ack().catch(() => {});
      });
      await ctx.poll(() => held.length >= 5, 'the receiver to hold 5 unacked messages');
      holding = false;
      const heldTexts = held.map((r) => r.text);
      await drop(conn);
      await untilAllAcked(ctx, [collector], items);
      checkEqual(collector.failedSettlements.length, 0, 'acks that rejected');
      for (const text of heldTexts) {
        check(
          collector.texts.filter((t) => t === text).length >= 2,
          `${text}, held unacked when the link dropped, came again`,
        );
      }
      await expectDrained(ctx, name, [queue]);
    },
    {
      requires: ['fault:dropConnection', 'retainUnicast', 'redeliverUnacked'],
      timeoutMillis: 60_000,
    },
  ),

  defineCase(
    'workload',
    'mixed-ack-timing',
    'a handler that acks before returning, after returning, or after a delay, mixed over hundreds of messages at prefetch 5: every ack resolves and every message arrives once',
    async (ctx) => {
      const name = ctx.name();
      const { collector } = await ctx.receiver(
        await ctx.connection(),
        { name, reliable: true, prefetch: 5 },
        (r) => {
          const turn = Number(r.text.slice(r.text.lastIndexOf('-') + 1)) % 3;
          if (turn === 0) return r.message.ack();
          if (turn === 1) {
            queueMicrotask(() => void r.message.ack().catch(() => {}));
            return undefined;
          }
          setTimeout(() => void r.message.ack().catch(() => {}), 1 + (r.text.length % 7));
          return undefined;
        },
      );
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      const items = texts('job', BACKLOG);
      await sendBacklog(send, items);
      await untilAllAcked(ctx, [collector], items);
      await ctx.quiet();
      checkEqual(collector.failedSettlements.length, 0, 'acks that rejected');
      checkEqual(collector.texts.length, items.length, 'messages delivered (twice counts twice)');
    },
    { timeoutMillis: 60_000 },
  ),

  defineCase(
    'workload',
    'small-prefetch-many-times',
    `a unicast receiver with prefetch ${SMALL_PREFETCH} that acks gets ${MANY} messages, over 40 times its prefetch, reliable and best effort`,
    (ctx) => smallPrefetchCase(ctx, false),
  ),

  defineCase(
    'workload',
    'small-prefetch-many-times-broadcast',
    `a broadcast receiver with prefetch ${SMALL_PREFETCH} that acks gets ${MANY} messages, over 40 times its prefetch, reliable and best effort`,
    (ctx) => smallPrefetchCase(ctx, true),
    { requires: ['broadcast'] },
  ),
];
