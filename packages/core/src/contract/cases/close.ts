import type { Connection } from '../../api/connection.js';
import { MqError } from '../../api/errors.js';
import { ContractFailure, check, checkEqual, checkSameList } from '../assert.js';
import type { ContractContext } from '../context.js';
import type { ContractCase } from '../types.js';
import { defineCase } from './define.js';

/** Resource kinds that keep a Node.js process alive. */
const KEEP_ALIVE = ['TCPSocketWrap', 'TCPWrap', 'TLSWrap', 'Timeout', 'PipeWrap', 'Immediate'];

/** How many resources of each keep-alive kind the process has now. */
function aliveCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) {
    if (KEEP_ALIVE.includes(kind)) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return counts;
}

/**
 * The keep-alive counts once they stop changing, so that a socket an earlier case is still closing neither
 * inflates the baseline nor, by closing later, hides a leak of this case.
 */
async function settledCounts(): Promise<Map<string, number>> {
  let previous = aliveCounts();
  for (let i = 0; i < 40; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = aliveCounts();
    if (JSON.stringify([...now].sort()) === JSON.stringify([...previous].sort())) return now;
    previous = now;
  }
  return previous;
}

const describeAlive = (): string => process.getActiveResourcesInfo().join(', ');

/** True when no keep-alive kind has more resources than in `before`. */
function backTo(before: Map<string, number>): boolean {
  for (const [kind, count] of aliveCounts()) if (count > (before.get(kind) ?? 0)) return false;
  return true;
}

/**
 * Fails unless the keep-alive resources are back to `before` within `baseMillis` (scaled): long enough for
 * sockets to finish closing on a busy machine, short enough that a timer left running (a reconnect, a deadline
 * of a few seconds) cannot expire by itself and hide.
 */
async function backWithin(
  ctx: ContractContext,
  before: Map<string, number>,
  baseMillis: number,
): Promise<void> {
  const millis = baseMillis * (ctx.target.timeScale ?? 1);
  await ctx
    .poll(() => backTo(before), 'keep-alive resources back to where they were', millis)
    .catch((error: unknown) => {
      throw new ContractFailure(
        `${String(error)}; before: ${JSON.stringify([...before])}, now: ${describeAlive()}`,
      );
    });
}

/** The listeners registered on a connection through its public `on` and `once`, and not removed since. */
interface ListenerCount {
  /** How many are registered now. */
  readonly count: number;
  /** Stops counting. */
  stop(): void;
}

/**
 * Counts, from now on, the listeners registered on `connection` through its public `on`/`once` and removed through
 * `off` (or by firing, for `once`): what a queue on it leaves behind shows as a count above zero.
 */
function countListeners(connection: Connection): ListenerCount {
  const live = new Set<unknown>();
  const target = connection as unknown as Record<'on' | 'once' | 'off', (...args: unknown[]) => unknown>;
  const own = { on: target.on, once: target.once, off: target.off };
  const hadOwn = (['on', 'once', 'off'] as const).filter((key) => Object.hasOwn(target, key));
  const wrapped = new WeakMap<object, unknown>();
  target.on = function (this: unknown, event: unknown, listener: unknown) {
    live.add(listener);
    return own.on.call(connection, event, listener);
  };
  target.once = function (this: unknown, event: unknown, listener: unknown) {
    const fired = (...args: unknown[]): unknown => {
      live.delete(fired);
      return (listener as (...a: unknown[]) => unknown)(...args);
    };
    wrapped.set(listener as object, fired);
    live.add(fired);
    return own.once.call(connection, event, fired);
  };
  target.off = function (this: unknown, event: unknown, listener: unknown) {
    const registered = wrapped.get(listener as object) ?? listener;
    live.delete(registered);
    return own.off.call(connection, event, registered);
  };
  return {
    get count() {
      return live.size;
    },
    stop() {
      for (const key of ['on', 'once', 'off'] as const) {
        if (hadOwn.includes(key)) target[key] = own[key];
        else delete target[key];
      }
    },
  };
}

/** Closing is graceful and leaves nothing behind. */
export const closeCases: ContractCase[] = [
  defineCase(
    'close',
    'closed-receiver-loses-nothing',
    'a receiver closed while its handlers hold messages, which they nack during the close, loses none: after its connection closes they all come again (to the same session where the broker keeps them per session)',
    async (ctx) => {
      const name = ctx.name();
      const items = ['held-0', 'held-1', 'held-2', 'held-3', 'held-4'];
      const session = ctx.target.sessionConnectionOptions?.();
      const first = await ctx.sessionConnection(session);
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const { queue, collector } = await ctx.receiver(
        first,
        { name, reliable: true, prefetch: 10 },
        async (r) => {
          await gate;
          // What counts is that nothing is lost, not how the nack ends.
          await r.message.nack().catch(() => {});
        },
      );
      // A nack during close may reject (MQTT cannot hand a message back while it unsubscribes).
      collector.allowSettleFailures();
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      for (const item of items) await send.sendMsg(Buffer.from(item, 'latin1'));
      await collector.until(
        (c) => c.texts.length >= items.length,
        'every message at the handler',
        ctx.waitMillis,
      );
      const closed = queue.close();
      release();
      await closed;
      await first.close();
      const next = await ctx.receiver(await ctx.sessionConnection(session), { name, reliable: true });
      await next.collector.until(
        (c) => items.every((item) => c.texts.includes(item)),
        'every message the closed receiver held',
        ctx.waitMillis,
      );
    },
    { requires: ['keepsUnacked', 'nackRequeue'] },
  ),

  defineCase(
    'close',
    'waits-for-handlers',
    'close() waits for handlers already running, whose acks still work',
    async (ctx) => {
      const name = ctx.name();
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const events: string[] = [];
      const { collector, queue } = await ctx.receiver(
        await ctx.connection(),
        { name, reliable: true },
        async (r) => {
          events.push('handler started');
          await gate;
          await r.message.ack();
          events.push('handler acked');
        },
      );
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      await send.sendMsg(Buffer.from('slow'));
      await collector.untilCount(1, ctx.waitMillis);
      const closing = queue.close().then(() => events.push('closed'));
      await new Promise((resolve) => setTimeout(resolve, 20));
      checkEqual(queue.status, 'closing', 'status while a handler runs');
      release();
      await closing;
      checkSameList(events, ['handler started', 'handler acked', 'closed'], 'order of events');
      checkEqual(collector.errors.length, 0, 'errors');
    },
  ),

  defineCase(
    'close',
    'bounded-by-close-timeout',
    'close() of a receiver whose handler never returns resolves at its closeTimeoutMillis, with a TIMEOUT error naming what it abandoned, and the message comes again to the next receiver',
    async (ctx) => {
      const name = ctx.name();
      const closeTimeoutMillis = 500;
      let stuck = false;
      const { queue } = await ctx.receiver(
        await ctx.connection(),
        { name, reliable: true, closeTimeoutMillis },
        ({ text, message }) => {
          if (text !== 'stuck') return message.ack();
          stuck = true;
          return new Promise<void>(() => {});
        },
      );
      const errors: MqError[] = [];
      queue.on('error', (error) => errors.push(error));
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      await send.sendMsg(Buffer.from('stuck', 'latin1'));
      await ctx.poll(() => stuck, 'the handler to start');
      const started = Date.now();
      let closed = false;
      void queue.close().then(() => {
        closed = true;
      });
      await ctx.poll(
        () => closed,
        `close() to resolve by its closeTimeoutMillis (${closeTimeoutMillis} ms)`,
        5000,
      );
      const took = Date.now() - started;
      check(
        took >= closeTimeoutMillis - 50,
        `close() resolved after ${took} ms, before its ${closeTimeoutMillis} ms`,
      );
      check(
        errors.some((error) => error.code === 'TIMEOUT' && /1 handler/.test(error.message)),
        `an error with code TIMEOUT naming the handler it abandoned (errors: ${errors.map((e) => e.code).join(', ') || 'none'})`,
      );
      const next = await ctx.receiver(await ctx.connection(), { name, reliable: true });
      await next.collector.untilText('stuck', ctx.waitMillis);
    },
    { requires: ['redeliverUnacked', 'retainUnicast'] },
  ),

  defineCase(
    'close',
    'connection-close-waits-for-handlers',
    'closing a connection waits for running handlers, whose acks still work, and its queues go closing then closed',
    async (ctx) => {
      const name = ctx.name();
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let ackOutcome = 'not settled';
      const conn = await ctx.connection();
      const { collector, queue } = await ctx.receiver(conn, { name, reliable: true }, async (r) => {
        await gate;
        await r.message.ack().then(
          () => {
            ackOutcome = 'acked';
          },
          (error: unknown) => {
            ackOutcome = `ack failed: ${String(error)}`;
          },
        );
      });
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      await send.sendMsg(Buffer.from('slow'));
      await collector.untilCount(1, ctx.waitMillis);
      const seen = ctx.recordStatuses(queue);
      const closing = conn.close();
      await new Promise((resolve) => setTimeout(resolve, 20));
      checkEqual(conn.status, 'closing', 'connection status while a handler runs');
      release();
      await closing;
      checkEqual(ackOutcome, 'acked', 'the running handler could ack');
      checkSameList(seen, ['closing', 'closed'], 'receiver status events during connection close');
    },
  ),

  defineCase(
    'close',
    'in-flight-send-settles',
    'sends in flight when close() is called all settle, and close() resolves',
    async (ctx) => {
      const name = ctx.name();
      const conn = await ctx.connection();
      const send = await ctx.sender(conn, { name, reliable: true });
      const { collector } = await ctx.receiver(await ctx.connection(), { name, reliable: true });
      const sends = Array.from({ length: 200 }, (_, i) => send.sendMsg(Buffer.from(`x${i}`)));
      await send.close();
      checkEqual(send.status, 'closed', 'status');
      const outcomes = await Promise.allSettled(sends);
      const confirmed: string[] = [];
      for (const [i, outcome] of outcomes.entries()) {
        if (outcome.status === 'fulfilled') confirmed.push(`x${i}`);
        else
          check(
            MqError.isInstance(outcome.reason),
            `send x${i} rejected with an MqError, got ${String(outcome.reason)}`,
          );
      }
      // Every send the queue confirmed was really taken by the broker: it reaches the receiver.
      await collector.until(
        (c) => confirmed.every((t) => c.texts.includes(t)),
        `${confirmed.length} confirmed messages`,
        ctx.waitMillis,
      );
    },
  ),

  defineCase(
    'close',
    'nothing-keeps-process-alive',
    'a closed queue and connection leave no socket or timer that keeps the process alive',
    async (ctx) => {
      const before = await settledCounts();
      const conn = await ctx.connection();
      const name = ctx.name();
      const { collector, queue: recv } = await ctx.receiver(conn, { name, reliable: true });
      const send = await ctx.sender(conn, { name, reliable: true });
      await send.sendMsg(Buffer.from('x'));
      await collector.untilCount(1, ctx.waitMillis);
      await recv.close();
      await send.close();
      await conn.close();
      await backWithin(ctx, before, 2_000);
      check(conn.status === 'closed', 'closed');
    },
  ),

  defineCase(
    'close',
    'unreachable-close-leaves-nothing',
    'closing a connection that is retrying an unreachable broker leaves no timer or socket alive',
    async (ctx) => {
      const before = await settledCounts();
      const conn = ctx.newConnection(ctx.target.unreachableConnectionOptions());
      const seen = ctx.recordStatuses(conn);
      conn.connect();
      await ctx.poll(() => seen.includes('disconnected'), 'a failed attempt');
      await conn.close();
      // The bound: nothing left within a second of closing a connection that is still retrying.
      await backWithin(ctx, before, 1_000);
    },
  ),

  defineCase(
    'close',
    'queue-close-leaves-nothing',
    'closing its queues while the connection stays open leaves nothing of them behind: no timer (also with a retry and an ack deadline pending) and no listener on the connection',
    async (ctx) => {
      const conn = await ctx.connection();
      const listeners = countListeners(conn);
      ctx.defer(async () => listeners.stop());
      const before = await settledCounts();
      const name = ctx.name();
      const { collector, queue: receiver } = await ctx.receiver(
        conn,
        { name, reliable: true, retryDelayMillis: 60_000, ackTimeoutMillis: 60_000 },
        ({ text, message }) => {
          if (text === 'fails') throw new Error('its retry is due in a minute');
          // Left unsettled: its ack deadline is a minute away.
          if (text === 'forgotten') return undefined;
          return message.ack();
        },
      );
      collector.allowSettleFailures();
      const send = await ctx.sender(conn, { name, reliable: true });
      for (const text of ['fails', 'forgotten', 'done']) await send.sendMsg(Buffer.from(text));
      await collector.until(
        (c) => c.texts.includes('done') && c.errors.some((e) => e.code === 'HANDLER_FAILED'),
        'the three messages handled (one failed)',
        ctx.waitMillis,
      );
      // The retry is waiting its minute, with the receiver or in the queue.
      await ctx.quiet();
      await receiver.close();
      await send.close();
      checkEqual(conn.status, 'connected', 'the connection, after its queues closed');
      await backWithin(ctx, before, 2_000);
      checkEqual(listeners.count, 0, 'listeners the closed queues left on their connection');
    },
  ),
];
