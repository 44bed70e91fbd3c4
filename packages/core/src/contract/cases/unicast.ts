import { MAX_QUEUE_NAME_LENGTH } from '../../api/limits.js';
import type { Queue } from '../../api/queue.js';
import { check, checkEqual, checkSameList } from '../assert.js';
import type { Collector } from '../context.js';
import type { ContractCase } from '../types.js';
import { defineCase, sendAll, texts } from './define.js';

/** Each message reaches exactly one receiver of the queue. */
export const unicastCases: ContractCase[] = [
  defineCase(
    'unicast',
    'one-to-one',
    'one sender to one receiver: every message arrives once, in order',
    async (ctx) => {
      const conn = await ctx.connection();
      const name = ctx.name();
      const { collector } = await ctx.receiver(conn, { name });
      const send = await ctx.sender(conn, { name });
      const items = texts('m', 50);
      await sendAll(send, items);
      await collector.untilCount(items.length, ctx.waitMillis);
      checkSameList(collector.texts, items, 'received in order');
    },
  ),

  defineCase(
    'unicast',
    'one-to-one-reliable',
    'one reliable sender to one receiver on separate connections: every message arrives once, in order',
    async (ctx) => {
      const name = ctx.name();
      const { collector } = await ctx.receiver(await ctx.connection(), { name, reliable: true });
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      const items = texts('r', 50);
      await sendAll(send, items);
      await collector.untilCount(items.length, ctx.waitMillis);
      checkSameList(collector.texts, items, 'received in order');
    },
  ),

  defineCase(
    'unicast',
    'one-to-three',
    'one sender to three receivers: every message reaches exactly one receiver',
    async (ctx) => {
      const name = ctx.name();
      const receivers: Collector[] = [];
      for (let i = 0; i < 3; i += 1)
        receivers.push((await ctx.receiver(await ctx.connection(), { name, reliable: true })).collector);
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      const items = texts('u', 90);
      await sendAll(send, items);
      const total = (): number => receivers.reduce((sum, c) => sum + c.received.length, 0);
      await ctx.poll(() => total() >= items.length, `${items.length} messages over three receivers`);
      const all = receivers.flatMap((c) => c.texts).sort();
      checkSameList(all, [...items].sort(), 'union of what the receivers got');
      const marker = ctx.name('marker');
      await send.sendMsg(Buffer.from(marker));
      await ctx.poll(() => receivers.some((c) => c.texts.includes(marker)), 'the marker');
      checkEqual(total(), items.length + 1, 'no message delivered twice');
    },
  ),

  defineCase(
    'unicast',
    'kept-before-receiver',
    'messages sent before any receiver exists are kept and delivered when one connects',
    async (ctx) => {
      const name = ctx.name();
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      const items = texts('early', 10);
      await sendAll(send, items);
      const { collector } = await ctx.receiver(await ctx.connection(), { name, reliable: true });
      await collector.untilCount(items.length, ctx.waitMillis);
      checkSameList(collector.texts, items, 'kept messages, in order');
    },
    { requires: ['retainUnicast'] },
  ),

  defineCase(
    'unicast',
    'kept-outlives-sender',
    'reliable and best-effort messages sent before any receiver exists are kept after the sender closes its connection, and delivered in order when a receiver connects',
    async (ctx) => {
      const reliableName = ctx.name('reliable');
      const bestEffortName = ctx.name('best-effort');
      const conn = await ctx.connection();
      const reliable = await ctx.sender(conn, { name: reliableName, reliable: true });
      const bestEffort = await ctx.sender(conn, { name: bestEffortName });
      const reliableItems = texts('kept-r', 37);
      const bestEffortItems = texts('kept-b', 37);
      await Promise.all([sendAll(reliable, reliableItems), sendAll(bestEffort, bestEffortItems)]);
      await conn.close();
      const later = await ctx.connection();
      const { collector: reliableGot } = await ctx.receiver(later, { name: reliableName, reliable: true });
      const { collector: bestEffortGot } = await ctx.receiver(later, { name: bestEffortName });
      await reliableGot.untilCount(reliableItems.length, ctx.waitMillis);
      await bestEffortGot.untilCount(bestEffortItems.length, ctx.waitMillis);
      await ctx.quiet();
      checkSameList(reliableGot.texts, reliableItems, 'kept reliable messages, in order');
      checkSameList(bestEffortGot.texts, bestEffortItems, 'kept best-effort messages, in order');
    },
    { requires: ['retainUnicast'] },
  ),

  defineCase(
    'unicast',
    'receivers-on-one-connection',
    'three receivers of one name on one connection share the work: each message reaches exactly one of them, and each gets some',
    async (ctx) => {
      const name = ctx.name();
      const conn = await ctx.connection();
      const receivers: Collector[] = [];
      for (let i = 0; i < 3; i += 1)
        receivers.push((await ctx.receiver(conn, { name, reliable: true, prefetch: 3 })).collector);
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      const items = texts('shared', 125);
      await Promise.all(items.map((item) => send.sendMsg(Buffer.from(item, 'latin1'))));
      const total = (): number => receivers.reduce((sum, c) => sum + c.received.length, 0);
      await ctx.poll(() => total() >= items.length, `${items.length} messages over three receivers`);
      await ctx.quiet();
      const all = receivers.flatMap((c) => c.texts).sort();
      checkSameList(all, [...items].sort(), 'union of what the receivers got, each message once');
      for (const [i, collector] of receivers.entries())
        check(collector.received.length > 0, `receiver ${i} got some of the ${items.length} messages`);
    },
    { requires: ['sameConnectionReceivers'] },
  ),

  defineCase(
    'unicast',
    'no-cross-talk',
    'queues with different names, even prefixes of each other, never cross-talk',
    async (ctx) => {
      const conn = await ctx.connection();
      const base = ctx.name();
      const names = [base, `${base}.child`, `${base}-x`];
      const receivers: Collector[] = [];
      for (const name of names) receivers.push((await ctx.receiver(conn, { name })).collector);
      const senders: Queue[] = [];
      for (const name of names) senders.push(await ctx.sender(conn, { name }));
      for (let i = 0; i < names.length; i += 1) await sendAll(senders[i]!, texts(`q${i}`, 5));
      for (let i = 0; i < names.length; i += 1) await receivers[i]!.untilCount(5, ctx.waitMillis);
      for (let i = 0; i < names.length; i += 1) await senders[i]!.sendMsg(Buffer.from(`end${i}`));
      for (let i = 0; i < names.length; i += 1) await receivers[i]!.untilText(`end${i}`, ctx.waitMillis);
      for (let i = 0; i < names.length; i += 1) {
        checkSameList(
          receivers[i]!.texts,
          [...texts(`q${i}`, 5), `end${i}`],
          `what queue ${names[i]} received`,
        );
      }
    },
  ),

  defineCase(
    'unicast',
    'names-apart',
    'names of the maximum length, and names that differ only in their last character or in _ against -, are accepted and never cross-talk',
    async (ctx) => {
      const conn = await ctx.connection();
      const base = ctx.name();
      const fill = (last: string): string =>
        `${base}.${'x'.repeat(MAX_QUEUE_NAME_LENGTH - base.length - 2)}${last}`;
      const names = [fill('a'), fill('b'), `${base}.a_b`, `${base}.a-b`];
      checkEqual(names[0]!.length, MAX_QUEUE_NAME_LENGTH, 'length of the longest name');
      const receivers: Collector[] = [];
      for (const name of names)
        receivers.push((await ctx.receiver(conn, { name, reliable: true })).collector);
      for (const [i, name] of names.entries()) {
        await sendAll(await ctx.sender(conn, { name, reliable: true }), texts(`n${i}`, 3));
      }
      for (const [i, collector] of receivers.entries()) {
        await collector.untilCount(3, ctx.waitMillis);
        await ctx.quiet();
        checkSameList(collector.texts, texts(`n${i}`, 3), `what ${names[i]!.slice(-12)} received`);
      }
    },
  ),

  defineCase(
    'unicast',
    'same-name-sender-receiver',
    'a sender and a receiver of the same name on one connection: each message arrives once',
    async (ctx) => {
      const conn = await ctx.connection();
      const name = ctx.name();
      const { collector } = await ctx.receiver(conn, { name });
      const send = await ctx.sender(conn, { name });
      const items = texts('s', 20);
      await sendAll(send, items);
      await collector.untilCount(items.length, ctx.waitMillis);
      await send.sendMsg(Buffer.from('end'));
      await collector.untilText('end', ctx.waitMillis);
      checkSameList(collector.texts, [...items, 'end'], 'received once each');
      check(collector.errors.length === 0, 'no errors');
    },
  ),
];
