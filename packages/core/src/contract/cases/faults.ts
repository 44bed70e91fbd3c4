import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Connection } from '../../api/connection.js';
import { MqError } from '../../api/errors.js';
import type { Queue } from '../../api/queue.js';
import { check, checkEqual } from '../assert.js';
import type { Collector, ContractContext } from '../context.js';
import { TcpProxy } from '../proxy.js';
import type { BrokerDown, ContractCase } from '../types.js';
import { defineCase, sendAll, texts } from './define.js';
import { expectDrained } from './workload.js';

/** Reliable messages a stream under faults sends, over {@link SENDERS} senders. */
const STREAM = 10_000;
/** Concurrent senders of a stream. */
const SENDERS = 10;
/** The send deadline of the stream's senders: every send must settle within it (plus timer slack). */
const SEND_TIMEOUT_MILLIS = 10_000;
/** What a send may reject with while a fault is under way; the app then resends it. */
const RETRYABLE = new Set(['CONNECTION_LOST', 'NOT_CONNECTED', 'TIMEOUT', 'CLOSED']);

/** The connections of a stream, for the faults to hit. */
interface StreamLinks {
  /** The receiver's connection. */
  receiver: Connection;
  /** The connection every sender is on. */
  sender: Connection;
}

/** A fault injected once `at` of the stream's messages are confirmed. */
interface Injection {
  /** The fraction of {@link STREAM} confirmed before the fault. */
  at: number;
  /** The links it cuts: it has landed once each of them went `disconnected`. */
  cuts: ReadonlyArray<keyof StreamLinks>;
  /** What to break. */
  run(links: StreamLinks): Promise<void>;
}

/** Milliseconds each sender waits between sends from a fault's start until it landed, so that it lands mid-stream. */
const PACE_MILLIS = 10;
/** The fraction of the stream after which the senders wait for every fault to be over, so that none comes too late. */
const LAST_STRETCH = 0.95;

/**
 * {@link SENDERS} senders send {@link STREAM} reliable messages while one receiver acks them, and `faults`
 * strike on the way: each starts from a sender's loop the moment `at` of the stream is confirmed, between making a
 * send and awaiting it (so that sends are in flight); until it has landed the senders go on at a slow pace (so that it lands while they
 * send, also on a broker that takes seconds to go down), and before the last stretch they wait for it to be over
 * (so that every link comes back while the stream still runs). A sender resends only what rejected (with a
 * retryable code), as an app would. Then: nothing whose send resolved is lost, every send settled within its
 * deadline, both sides came back by themselves, the queue is left empty, and (where redeliveries are flagged) no
 * message confirmed at its first send came again as a new one: a sender whose link came back published nothing
 * again. Duplicates of redelivered messages are allowed (at least once) and reported on failure.
 */
async function streamThroughFaults(
  ctx: ContractContext,
  faults: readonly Injection[],
  drops: { receiver: number; sender: number },
  connect: () => Promise<Connection> = () => ctx.connection(),
): Promise<void> {
  const name = ctx.name();
  const receiverConn = await connect();
  const receiverStatuses = ctx.recordStatuses(receiverConn);
  const { queue: receiver, collector } = await ctx.receiver(receiverConn, {
    name,
    reliable: true,
    prefetch: 50,
  });
  // Acks made as a link dies cannot succeed: the broker redelivers those messages. Checked below by code.
  collector.allowSettleFailures();
  const senderConn = await connect();
  const senderStatuses = ctx.recordStatuses(senderConn);
  const senders: Queue[] = [];
  for (let i = 0; i < SENDERS; i += 1) {
    senders.push(
      await ctx.sender(senderConn, { name, reliable: true, sendTimeoutMillis: SEND_TIMEOUT_MILLIS }),
    );
  }
  const links: StreamLinks = { receiver: receiverConn, sender: senderConn };
  const statusesOf: Record<keyof StreamLinks, string[]> = {
    receiver: receiverStatuses,
    sender: senderStatuses,
  };
  const lost = (seen: string[]): number => seen.filter((status) => status === 'disconnected').length;
  const confirmed = new Set<string>();
  /** Confirmed at their first send: none of them may come as a new message twice. */
  const firstTry = new Set<string>();
  const stats = { rejected: 0, slowest: 0, badCodes: [] as string[] };
  const strikes = { next: 0, landed: (): boolean => true, over: true, runs: [] as Promise<void>[] };
  // Starts the next fault once its share of the stream is confirmed and the one before is over.
  const strike = (): void => {
    const fault = faults[strikes.next];
    if (!fault || !strikes.over || confirmed.size < fault.at * STREAM) return;
    strikes.next += 1;
    strikes.over = false;
    const before = fault.cuts.map((side) => lost(statusesOf[side]));
    strikes.landed = () => fault.cuts.every((side, i) => lost(statusesOf[side]) > before[i]!);
    strikes.runs.push(
      fault.run(links).finally(() => {
        strikes.over = true;
      }),
    );
  };
  const pending = (): boolean => strikes.next < faults.length || !strikes.over;
  const sendOne = async (queue: Queue, text: string): Promise<void> => {
    for (let attempt = 1; ; attempt += 1) {
      if (queue.status !== 'connected') await ctx.waitStatus(queue, 'connected', ctx.waitMillis * 6);
      const started = Date.now();
      try {
        const sent = queue.sendMsg(Buffer.from(text, 'latin1'));
        // A fault due now starts while this send, and the other senders', are in flight.
        strike();
        await sent;
        stats.slowest = Math.max(stats.slowest, Date.now() - started);
        confirmed.add(text);
        if (attempt === 1) firstTry.add(text);
        return;
      } catch (error) {
        stats.slowest = Math.max(stats.slowest, Date.now() - started);
        stats.rejected += 1;
        const code = MqError.isInstance(error) ? error.code : String(error);
        if (!RETRYABLE.has(code)) stats.badCodes.push(code);
        if (stats.badCodes.length > 0) throw error;
        // Resend after a turn of the event loop, as an app would: a loop of rejections that settle in
        // microtasks would starve the I/O that tells the queue its link is gone.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  };
  const slices = senders.map((queue, i) => ({
    queue,
    items: texts(`s${i}`, STREAM / SENDERS),
  }));
  const sending = Promise.all(
    slices.map(async ({ queue, items }) => {
      for (const [i, item] of items.entries()) {
        if (confirmed.size >= LAST_STRETCH * STREAM && pending()) {
          await ctx.poll(
            () => {
              strike();
              return !pending();
            },
            () =>
              `every fault to be over before the last stretch of the stream (${strikes.next} of ${faults.length} started)`,
            ctx.waitMillis * 12,
          );
        }
        await sendOne(queue, item);
        if (!strikes.over && !strikes.landed()) {
          await new Promise((resolve) => setTimeout(resolve, PACE_MILLIS));
        } else if (i % 50 === 49) {
          // A send that resolves without I/O (an in-process broker) must not starve the deliveries it causes.
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    }),
  );
  await sending;
  await Promise.all(strikes.runs);
  checkEqual(strikes.next, faults.length, 'faults that struck during the stream');
  // The faults did strike: each connection lost its link as often as they should have made it.
  check(
    lost(receiverStatuses) >= drops.receiver && lost(senderStatuses) >= drops.sender,
    `links lost: receiver ${lost(receiverStatuses)}, sender ${lost(senderStatuses)}; the faults should have cut at least ${drops.receiver} and ${drops.sender}`,
  );
  checkEqual(
    stats.badCodes.length,
    0,
    `sends that rejected with a code an app cannot retry on (${stats.badCodes.slice(0, 3).join(', ')})`,
  );
  // Timers fire late on a loaded machine: a second of slack over the deadline.
  check(
    stats.slowest <= SEND_TIMEOUT_MILLIS * (ctx.target.timeScale ?? 1) + 1000,
    `a send took ${stats.slowest} ms to settle, over its sendTimeoutMillis (${SEND_TIMEOUT_MILLIS})`,
  );
  await untilReceived(ctx, collector, confirmed, stats.rejected);
  await ctx.waitStatus(receiver, 'connected');
  const ackCodes = new Set(
    collector.failedSettlements.map((s) => (MqError.isInstance(s.error) ? s.error.code : String(s.error))),
  );
  check(
    [...ackCodes].every((code) => code === 'ACK_FAILED'),
    `acks across the faults rejected with ${[...ackCodes].join(', ')}; only ACK_FAILED (redelivered) is allowed`,
  );
  await expectDrained(ctx, name, [receiver]);
  checkNotPublishedAgain(ctx, collector, firstTry);
}

/**
 * Where the backend carries metadata (and so flags redeliveries), fails if a message confirmed at its first send
 * came a second time as a new message (`redelivered` false): something published it again.
 */
function checkNotPublishedAgain(
  ctx: ContractContext,
  collector: Collector,
  firstTry: ReadonlySet<string>,
): void {
  if (ctx.target.backend.capabilities.metadata !== true) return;
  const seen = new Set<string>();
  const again: string[] = [];
  for (const { text, message } of collector.received) {
    if (seen.has(text) && firstTry.has(text) && !message.redelivered) again.push(text);
    seen.add(text);
  }
  check(
    again.length === 0,
    `${again.length} message(s) confirmed at their first send came again as new ones (redelivered false), so were published again after a link came back: ${again.slice(0, 5).join(', ')}`,
  );
}

/** Waits until every confirmed text has been received; fails saying how many were lost and duplicated. */
async function untilReceived(
  ctx: ContractContext,
  collector: Collector,
  confirmed: ReadonlySet<string>,
  rejected: number,
): Promise<void> {
  const missing = (): string[] => {
    const got = new Set(collector.texts);
    return [...confirmed].filter((text) => !got.has(text));
  };
  await ctx.poll(
    () => missing().length === 0,
    () => {
      const lost = missing();
      const duplicates = collector.received.length - new Set(collector.texts).size;
      return `every confirmed message at the receiver: ${lost.length} of ${confirmed.size} confirmed never came (e.g. ${lost.slice(0, 3).join(', ')}), ${duplicates} duplicates, ${rejected} sends rejected and resent`;
    },
    ctx.waitMillis * 3,
  );
}

/**
 * The bytes the process holds (heap, external and array buffers), after a full garbage collection where one can
 * be asked for (`--expose-gc`, or turned on here through V8's flags); else its resident set size, garbage included.
 */
function retainedBytes(): number {
  const gc = garbageCollector();
  if (!gc) return process.memoryUsage().rss;
  gc();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

let collector: (() => void) | null | undefined;

function garbageCollector(): (() => void) | null {
  if (collector !== undefined) return collector;
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') {
    collector = exposed;
    return collector;
  }
  try {
    setFlagsFromString('--expose-gc');
    const made: unknown = runInNewContext('gc');
    collector = typeof made === 'function' ? (made as () => void) : null;
  } catch {
    collector = null;
  }
  return collector;
}

/** A broker that is down until `bringUp()`: the target's own, or a proxy to the real one that starts late. */
async function brokerDown(ctx: ContractContext): Promise<BrokerDown> {
  const faults = ctx.target.faults;
  if (faults?.brokerDown) return faults.brokerDown();
  const silent = faults?.silentBroker;
  check(silent, 'brokerDown or silentBroker fault hook');
  // A loopback port nothing listens on yet: the broker, as this client sees it, is down.
  const port = await TcpProxy.freePort();
  return {
    connectionOptions: silent.connectionOptions(port),
    bringUp: async () => {
      const proxy = await TcpProxy.start(silent.address, port);
      ctx.defer(() => proxy.close());
    },
  };
}

/** Drops `conn`'s link and waits until each of `queues` has been `disconnected` and is `connected` again. */
async function dropAndRecover(
  ctx: ContractContext,
  conn: Connection,
  queues: readonly Queue[],
): Promise<void> {
  const drop = ctx.target.faults?.dropConnection;
  check(drop, 'dropConnection fault hook');
  const seen = queues.map((queue) => ctx.recordStatuses(queue));
  await drop(conn);
  await ctx.poll(
    () => queues.every((queue, i) => seen[i]!.includes('disconnected') && queue.status === 'connected'),
    () => `the queues to go disconnected and come back (saw ${seen.map((s) => s.join(' > ')).join('; ')})`,
  );
}

/** How many times each text of `items` was received. */
function countsOf(collector: Collector, items: readonly string[]): Map<string, number> {
  const counts = new Map(items.map((item) => [item, 0]));
  for (const text of collector.texts) if (counts.has(text)) counts.set(text, counts.get(text)! + 1);
  return counts;
}

/** Fails unless every one of `items` was received exactly once. */
function checkOnce(collector: Collector, items: readonly string[], what: string): void {
  const wrong = [...countsOf(collector, items)].filter(([, n]) => n !== 1);
  check(
    wrong.length === 0,
    `${what}: ${wrong.length} of ${items.length} not received exactly once (${wrong
      .slice(0, 3)
      .map(([text, n]) => `${text} ${n} times`)
      .join(', ')})`,
  );
}

/**
 * Three addresses of the broker for `silent`'s connections: a loopback port nothing listens on, then two proxies
 * to the broker, `first` (which the connections use once the dead one fails) and `second`.
 */
async function threeAddresses(ctx: ContractContext): Promise<{
  options: (extra?: Record<string, unknown>) => Record<string, unknown>;
  first: TcpProxy;
  second: TcpProxy;
  dead: number;
}> {
  const silent = ctx.target.faults?.silentBroker;
  check(silent, 'silentBroker fault hook');
  const dead = await TcpProxy.freePort();
  const first = await TcpProxy.start(silent.address);
  ctx.defer(() => first.close());
  const second = await TcpProxy.start(silent.address);
  ctx.defer(() => second.close());
  const uriOf = (port: number): unknown => silent.connectionOptions(port).uri;
  return {
    dead,
    first,
    second,
    options: (extra = {}) => ({
      ...silent.connectionOptions(first.port),
      uri: [uriOf(dead), uriOf(first.port), uriOf(second.port)],
      reconnectMillis: 100,
      reconnectMaxMillis: 1000,
      ...extra,
    }),
  };
}

/** Fails unless `conn` says it is on the address with this loopback `port`. */
function checkOnPort(conn: Connection, port: number, what: string): void {
  check(
    typeof conn.address === 'string' && conn.address.includes(`127.0.0.1:${port}`),
    `${what}: connection.address should name 127.0.0.1:${port}, got ${String(conn.address)}`,
  );
}

/** Faults: broker restarts, connections cut, receivers dying with messages in hand, brokers unreachable. */
export const faultCases: ContractCase[] = [
  defineCase(
    'faults',
    'restart-mid-stream',
    'the broker restarts twice while 10 senders send 10,000 reliable messages and a receiver acks: nothing confirmed is lost, every send settles, both sides recover, the queue drains',
    async (ctx) => {
      const restart = ctx.target.faults?.restartBroker;
      check(restart, 'restartBroker fault hook');
      await streamThroughFaults(
        ctx,
        [
          { at: 1 / 3, cuts: ['receiver', 'sender'], run: () => restart() },
          { at: 1 / 2, cuts: ['receiver', 'sender'], run: () => restart() },
        ],
        { receiver: 1, sender: 1 },
      );
    },
    { requires: ['fault:restartBroker', 'retainUnicast', 'redeliverUnacked'], timeoutMillis: 180_000 },
  ),

  defineCase(
    'faults',
    'links-cut-mid-stream',
    "the receiver's link and then the senders' link are cut while 10 senders send 10,000 reliable messages: nothing confirmed is lost, every send settles, both sides recover, the queue drains",
    async (ctx) => {
      const drop = ctx.target.faults?.dropConnection;
      check(drop, 'dropConnection fault hook');
      await streamThroughFaults(
        ctx,
        [
          { at: 1 / 3, cuts: ['receiver'], run: (links) => drop(links.receiver) },
          { at: 1 / 2, cuts: ['sender'], run: (links) => drop(links.sender) },
        ],
        { receiver: 1, sender: 1 },
      );
    },
    { requires: ['fault:dropConnection', 'retainUnicast', 'redeliverUnacked'], timeoutMillis: 120_000 },
  ),

  defineCase(
    'faults',
    'frozen-link-heartbeat',
    'the links freeze for 20 s (no bytes, no close) while 10 senders send 10,000 reliable messages, with 1 s heartbeats: both sides notice within a few heartbeats, every send settles, nothing confirmed is lost after the thaw',
    async (ctx) => {
      const silent = ctx.target.faults?.silentBroker;
      const heartbeat = silent?.heartbeatOptions;
      check(silent && heartbeat, 'silentBroker.heartbeatOptions fault hook');
      const proxy = await TcpProxy.start(silent.address);
      ctx.defer(() => proxy.close());
      const connect = async (): Promise<Connection> => {
        // Retries at least every second, so that the thaw is seen at once.
        const conn = ctx.newConnection({ ...heartbeat(proxy.port, 1), reconnectMaxMillis: 1000 });
        conn.on('error', () => {});
        conn.connect();
        await ctx.waitStatus(conn, 'connected');
        return conn;
      };
      const scale = Math.max(1, ctx.target.timeScale ?? 1);
      await streamThroughFaults(
        ctx,
        [
          {
            at: 1 / 3,
            cuts: ['receiver', 'sender'],
            run: async (links) => {
              const frozenAt = Date.now();
              const noticed = { receiver: 0, sender: 0 };
              for (const [side, conn] of [
                ['receiver', links.receiver],
                ['sender', links.sender],
              ] as const) {
                conn.on('status', (status) => {
                  if (status === 'disconnected' && noticed[side] === 0) noticed[side] = Date.now() - frozenAt;
                });
              }
              proxy.freeze();
              // About two missed heartbeats, three at worst (RabbitMQ's and amqplib's timing), plus slack.
              await ctx.poll(
                () => noticed.receiver > 0 && noticed.sender > 0,
                () =>
                  `both sides to notice the frozen link (receiver ${noticed.receiver} ms, sender ${noticed.sender} ms)`,
                5000 * scale,
              );
              const left = 20_000 * scale - (Date.now() - frozenAt);
              await new Promise((resolve) => setTimeout(resolve, Math.max(0, left)));
              proxy.thaw();
            },
          },
        ],
        { receiver: 1, sender: 1 },
        connect,
      );
    },
    { requires: ['fault:heartbeat', 'retainUnicast', 'redeliverUnacked'], timeoutMillis: 180_000 },
  ),

  defineCase(
    'faults',
    'receiver-dies-holding',
    'a receiver whose process dies (its link cut, never to return) while it holds unacked messages: a new receiver gets every message, the held ones again, and the queue drains',
    async (ctx) => {
      const drop = ctx.target.faults?.dropConnection;
      check(drop, 'dropConnection fault hook');
      const name = ctx.name();
      const items = texts('held', 200);
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      for (const item of items) await send.sendMsg(Buffer.from(item, 'latin1'));
      // The doomed receiver holds 20 and acks none of them.
      const doomedConn = await ctx.connection();
      const doomed = await ctx.receiver(doomedConn, { name, reliable: true, prefetch: 20 }, 'none');
      await doomed.collector.untilCount(20, ctx.waitMillis);
      const held = doomed.collector.texts;
      // A process killed with SIGKILL: its link dies without a goodbye, and nothing of it ever reconnects.
      doomed.queue.on('status', (status) => {
        if (status === 'disconnected') void doomedConn.close();
      });
      await drop(doomedConn);
      await ctx.waitStatus(doomedConn, 'closed');
      const { queue, collector } = await ctx.receiver(await ctx.connection(), { name, reliable: true });
      await ctx.poll(
        () => items.every((item) => collector.texts.includes(item)),
        () =>
          `all ${items.length} messages at the new receiver (got ${new Set(collector.texts).size}; held by the dead one: ${held.length})`,
      );
      check(
        held.every((text) => collector.texts.includes(text)),
        'the messages the dead receiver held came again',
      );
      await expectDrained(ctx, name, [queue]);
    },
    { requires: ['fault:dropConnection', 'retainUnicast', 'redeliverUnacked'] },
  ),

  defineCase(
    'faults',
    'unreachable-sends-settle',
    'against a broker that is not up, 100,000 sends all settle by their sendTimeoutMillis (those past the send buffer at once, with NOT_CONNECTED) without holding memory, none is sent later, and sends work soon after the broker comes up',
    async (ctx) => {
      const down = await brokerDown(ctx);
      // Retries every 500 ms at most, so that "soon after it comes up" can be measured.
      const conn = ctx.newConnection({
        ...down.connectionOptions,
        reconnectMillis: 100,
        reconnectMaxMillis: 500,
      });
      conn.on('error', () => {});
      const statuses = ctx.recordStatuses(conn);
      conn.connect();
      const name = ctx.name();
      // Shorter under a timeScale below 1 (quick runs of broken variants), so that the case fits its own timeout.
      const deadline = Math.max(300, Math.round(3000 * Math.min(1, ctx.target.timeScale ?? 1)));
      // The default send buffer: at most 10,000 sends wait for the link, the rest reject at once.
      const send = ctx.newQueue(conn, { name, isRecv: false, reliable: true, sendTimeoutMillis: deadline });
      send.connect();
      // Down for real: the first attempt has failed, and the connection keeps retrying during the sends.
      await ctx.poll(() => statuses.includes('disconnected'), 'the first connection attempt to fail');
      const before = retainedBytes();
      const started = Date.now();
      const codes = new Map<string, number>();
      let settled = 0;
      let lastSettled = 0;
      const count = (code: string): void => {
        codes.set(code, (codes.get(code) ?? 0) + 1);
        settled += 1;
        lastSettled = Date.now();
      };
      // In batches, a turn of the event loop apart, as an app's sends come (the retries go on meanwhile); nothing
      // keeps the promises but their own handlers.
      // 1 KiB each: a client that held every send would hold about 100 MiB of payload alone.
      const payload = (text: string): Buffer => {
        const bytes = Buffer.alloc(1024, 0x2e);
        bytes.write(text, 'latin1');
        return bytes;
      };
      let held = 0;
      for (let batch = 0; batch < 100; batch += 1) {
        for (let i = 0; i < 1000; i += 1) {
          send.sendMsg(payload(`lost-${batch}-${i}`)).then(
            () => count('resolved'),
            (error: unknown) => count(MqError.isInstance(error) ? error.code : String(error)),
          );
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      // What the client holds while the sends that fit wait for their deadline (garbage collected first, where
      // the process allows it).
      held = retainedBytes() - before;
      const sent = Date.now() - started;
      const scale = Math.max(1, ctx.target.timeScale ?? 1);
      // Against the unscaled wait: a timeScale below 1 (quicker failing cases) must not turn this bound into a
      // speed test of the machine (100,000 sends with their rejections take about 1 s here).
      const bound = deadline + 10_000 * scale;
      await ctx.poll(
        () => settled === 100_000,
        () =>
          `all 100,000 sends to settle within ${bound} ms (${settled} settled: ${JSON.stringify([...codes])})`,
        bound,
      );
      const took = lastSettled - started;
      const growth = held / 2 ** 20;
      const other = [...codes].filter(([code]) => code !== 'NOT_CONNECTED' && code !== 'TIMEOUT');
      check(
        other.length === 0,
        `every send rejected with NOT_CONNECTED or TIMEOUT (all: ${JSON.stringify([...codes])})`,
      );
      check(
        (codes.get('NOT_CONNECTED') ?? 0) > 0,
        `sends past the send buffer rejected at once with NOT_CONNECTED: the buffer is bounded (all: ${JSON.stringify([...codes])})`,
      );
      // Slack for a busy machine: a send that outlived its deadline by seconds is what this catches.
      check(
        took < sent + deadline + 5000 * scale,
        `the last of 100,000 sends settled ${took} ms after the first was made; each should settle by its ${deadline} ms deadline`,
      );
      // A client that held what it could not send would hold 100,000 payloads.
      check(
        growth < 64,
        `the client held ${growth.toFixed(1)} MiB more while 100,000 sends of 1 KiB waited or were rejected`,
      );
      const upAt = Date.now();
      await down.bringUp();
      await ctx.waitStatus(send, 'connected', ctx.waitMillis);
      const upAfter = Date.now() - upAt;
      check(
        upAfter <= 3000 * scale,
        `the sender was connected ${upAfter} ms after the broker came up, expected at most 3000 ms (reconnectMaxMillis 500)`,
      );
      const { collector } = await ctx.receiver(conn, { name, reliable: true });
      await send.sendMsg(Buffer.from('after', 'latin1'));
      await collector.untilText('after', ctx.waitMillis);
      check(
        !collector.texts.some((text) => text.startsWith('lost-')),
        'no send that rejected reached the queue',
      );
    },
    { requires: ['fault:brokerDown'], timeoutMillis: 60_000 },
  ),

  defineCase(
    'faults',
    'sends-wait-through-drop',
    'sends wait through a short drop and settle by their deadline: a send right after connect() and sends made while a link is down for a moment are delivered; sends made while it stays down past their sendTimeoutMillis reject with TIMEOUT by then and are never sent later',
    async (ctx) => {
      const drop = ctx.target.faults?.dropConnection;
      check(drop, 'dropConnection fault hook');
      const name = ctx.name();
      const { collector } = await ctx.receiver(await ctx.connection(), { name, reliable: true });
      // Right after connect(), before the queue is connected: the send waits for it. The link comes back 400 ms
      // after a drop: a short drop, long enough to send into.
      const conn = ctx.newConnection({ ...ctx.target.connectionOptions(), reconnectMillis: 400 });
      conn.connect();
      await ctx.waitStatus(conn, 'connected');
      const early = ctx.newQueue(conn, { name, isRecv: false, reliable: true });
      early.connect();
      await early.sendMsg(Buffer.from('early', 'latin1'));
      const quick = ctx.newQueue(conn, { name, isRecv: false });
      quick.connect();
      await quick.sendMsg(Buffer.from('early-best-effort', 'latin1'));
      // A best-effort send is done once written: wait for both to arrive before the drop can lose the written one.
      await ctx.poll(
        () => collector.texts.includes('early') && collector.texts.includes('early-best-effort'),
        'the sends made right after connect() to arrive',
      );
      // A short drop: the link comes back after the connection's own short reconnect delay.
      const blip = texts('blip', 50);
      await drop(conn);
      // Sent while both senders are down (a send already on the dying link may be lost with it).
      await ctx.poll(
        () => early.status !== 'connected' && quick.status !== 'connected',
        'both senders to notice the drop',
      );
      const blipSends = blip.map((text, i) =>
        (i % 2 === 0 ? early : quick).sendMsg(Buffer.from(text, 'latin1')),
      );
      const outcomes = await Promise.allSettled(blipSends);
      const failures = outcomes.flatMap((o) =>
        o.status === 'rejected' ? [MqError.isInstance(o.reason) ? o.reason.code : String(o.reason)] : [],
      );
      check(
        failures.length === 0,
        `${failures.length} of ${blip.length} sends made during a short drop failed (${failures.slice(0, 3).join(', ')}); they should wait for the link`,
      );
      await ctx.poll(
        () => blip.every((text) => collector.texts.includes(text)),
        () =>
          `every send made during the drop to arrive (missing: ${blip.filter((text) => !collector.texts.includes(text)).join(', ')})`,
      );
      // A drop that lasts: the link comes back only after the sends' deadline.
      const deadline = 300;
      const slowConn = ctx.newConnection({ ...ctx.target.connectionOptions(), reconnectMillis: 2000 });
      slowConn.connect();
      await ctx.waitStatus(slowConn, 'connected');
      const patient = await ctx.sender(slowConn, { name, reliable: true, sendTimeoutMillis: deadline });
      await drop(slowConn);
      await ctx.waitStatus(patient, 'disconnected');
      const late = texts('late', 20);
      const started = Date.now();
      const lateOutcomes = await Promise.allSettled(
        late.map(async (text) => {
          try {
            await patient.sendMsg(Buffer.from(text, 'latin1'));
            return 'resolved';
          } catch (error) {
            return MqError.isInstance(error) ? error.code : String(error);
          } finally {
            const took = Date.now() - started;
            check(
              took < deadline + 1000,
              `a send settled ${took} ms after it was made, past its ${deadline} ms deadline`,
            );
          }
        }),
      );
      const lateCodes = lateOutcomes.map((o) =>
        o.status === 'fulfilled' ? o.value : `over deadline: ${String(o.reason)}`,
      );
      check(
        lateCodes.every((code) => code === 'TIMEOUT'),
        `sends made while the link stayed down past their deadline each rejected with TIMEOUT (got ${[...new Set(lateCodes)].join(', ')})`,
      );
      await ctx.waitStatus(patient, 'connected', ctx.waitMillis + 2000);
      await patient.sendMsg(Buffer.from('after', 'latin1'));
      await collector.untilText('after', ctx.waitMillis);
      await ctx.quiet();
      check(
        !late.some((text) => collector.texts.includes(text)),
        'no send that timed out while waiting for the link was sent once it came back',
      );
    },
    { requires: ['fault:dropConnection'], timeoutMillis: 60_000 },
  ),

  defineCase(
    'faults',
    'link-drop-broadcast-once',
    'after their links drop and come back, a reliable and a best-effort broadcast receiver each get every later message exactly once, and no earlier one again',
    async (ctx) => {
      const name = ctx.name();
      const receivers = await Promise.all(
        [true, false].map(async (reliable) => {
          const conn = await ctx.connection();
          return { conn, ...(await ctx.receiver(conn, { name, broadcast: true, reliable })) };
        }),
      );
      const send = await ctx.sender(await ctx.connection(), { name, broadcast: true, reliable: true });
      const before = texts('before', 43);
      await sendAll(send, before);
      for (const { collector } of receivers) {
        await collector.untilCount(before.length, ctx.waitMillis);
        await ctx.poll(
          () => collector.settledCount('ack') === before.length,
          'the acks of the first messages',
        );
      }
      for (const { conn, queue } of receivers) await dropAndRecover(ctx, conn, [queue]);
      const after = texts('after', 67);
      await sendAll(send, after);
      for (const { collector } of receivers) await collector.untilText(after.at(-1)!, ctx.waitMillis);
      await ctx.quiet();
      for (const [i, { collector }] of receivers.entries()) {
        const kind = i === 0 ? 'reliable' : 'best-effort';
        checkOnce(collector, before, `the ${kind} receiver, messages sent before the drop`);
        checkOnce(collector, after, `the ${kind} receiver, messages sent after it came back`);
        checkEqual(
          collector.received.length,
          before.length + after.length,
          `messages the ${kind} receiver got`,
        );
      }
    },
    { requires: ['fault:dropConnection', 'broadcast'], timeoutMillis: 60_000 },
  ),

  defineCase(
    'faults',
    'link-drop-acked-stay-acked',
    "after a receiver's link drops and comes back, the messages it acked never come again, later ones arrive once, and (where unacked messages are redelivered) those it held come again",
    async (ctx) => {
      const name = ctx.name();
      const conn = await ctx.connection();
      const acked = texts('acked', 23);
      const held = texts('held', 11);
      const heldSet = new Set(held);
      let holding = true;
      const { queue, collector } = await ctx.receiver(conn, { name, reliable: true }, (r) => {
        if (holding && heldSet.has(r.text)) return undefined;
        return r.message.ack();
      });
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      await sendAll(send, [...acked, ...held]);
      await collector.untilCount(acked.length + held.length, ctx.waitMillis);
      await ctx.poll(() => collector.settledCount('ack') === acked.length, 'the acks of the first messages');
      // An ack that resolved has had a moment to reach the broker: the drop must not undo it.
      await ctx.quiet();
      holding = false;
      await dropAndRecover(ctx, conn, [queue]);
      const later = texts('later', 31);
      await sendAll(send, later);
      await collector.untilText(later.at(-1)!, ctx.waitMillis);
      if (ctx.target.backend.capabilities.redeliverUnacked) {
        await ctx.poll(
          () => [...countsOf(collector, held).values()].every((n) => n >= 2),
          'the messages held unacked at the drop to come again',
        );
      }
      await ctx.quiet();
      checkOnce(collector, acked, 'messages acked before the drop');
      checkOnce(collector, later, 'messages sent after the receiver came back');
    },
    { requires: ['fault:dropConnection'], timeoutMillis: 60_000 },
  ),

  defineCase(
    'faults',
    'failover-to-next-address',
    'with three addresses (the first dead), the one in use goes away for good while 10 senders send 10,000 reliable messages: both sides move to the last one by themselves, nothing confirmed is lost, every send settles',
    async (ctx) => {
      const { options, first, second } = await threeAddresses(ctx);
      const connect = async (): Promise<Connection> => {
        const conn = ctx.newConnection(options());
        conn.on('error', () => {});
        conn.connect();
        await ctx.waitStatus(conn, 'connected');
        checkOnPort(conn, first.port, 'past the dead first address');
        return conn;
      };
      await streamThroughFaults(
        ctx,
        [
          {
            at: 1 / 3,
            cuts: ['receiver', 'sender'],
            run: async (links) => {
              // Gone for good: its sockets cut and its port no longer listening.
              await first.close();
              for (const conn of [links.receiver, links.sender]) {
                await ctx.poll(
                  () => conn.status === 'connected' && conn.address?.includes(`:${second.port}`) === true,
                  () => `the connection on the last address (now ${conn.status} on ${String(conn.address)})`,
                );
              }
            },
          },
        ],
        { receiver: 1, sender: 1 },
        connect,
      );
    },
    {
      requires: ['fault:silentBroker', 'multipleAddresses', 'retainUnicast', 'redeliverUnacked'],
      timeoutMillis: 120_000,
    },
  ),

  defineCase(
    'faults',
    'failover-then-work',
    'with three addresses (the first dead), a connection starts on the second and reports the dead one; when the second goes away for good, it and its queues move to the third by themselves and work',
    async (ctx) => {
      const { options, first, second, dead } = await threeAddresses(ctx);
      const conn = ctx.newConnection(options());
      const errors: MqError[] = [];
      conn.on('error', (error) => errors.push(error));
      conn.connect();
      await ctx.waitStatus(conn, 'connected');
      checkOnPort(conn, first.port, 'past the dead first address');
      check(
        errors.some((error) => error.message.includes(`127.0.0.1:${dead}`)),
        `an error names the dead address 127.0.0.1:${dead} (errors: ${errors.map((e) => e.message).join(' | ')})`,
      );
      const name = ctx.name();
      const { queue: receiver, collector } = await ctx.receiver(conn, { name, reliable: true });
      const send = await ctx.sender(conn, { name, reliable: true });
      await sendAll(send, ['before']);
      await collector.untilText('before', ctx.waitMillis);
      const seen = [ctx.recordStatuses(receiver), ctx.recordStatuses(send)];
      await first.close();
      await ctx.poll(
        () =>
          conn.status === 'connected' &&
          conn.address?.includes(`:${second.port}`) === true &&
          [receiver, send].every((q, i) => seen[i]!.includes('disconnected') && q.status === 'connected'),
        () =>
          `the connection and its queues back on the third address (connection ${conn.status} on ${String(conn.address)})`,
      );
      await sendAll(send, ['after']);
      await collector.untilText('after', ctx.waitMillis);
    },
    { requires: ['fault:silentBroker', 'multipleAddresses'], timeoutMillis: 60_000 },
  ),
];
