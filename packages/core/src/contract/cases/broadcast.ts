import { checkSameList } from '../assert.js';
import type { Collector } from '../context.js';
import type { ContractCase } from '../types.js';
import { defineCase, sendAll, texts } from './define.js';

/** Every broadcast receiver gets every message sent while it is connected. */
export const broadcastCases: ContractCase[] = [
  defineCase(
    'broadcast',
    'one-to-three',
    'one sender to three broadcast receivers: every receiver gets every message, in order',
    async (ctx) => {
      const name = ctx.name();
      const receivers: Collector[] = [];
      for (let i = 0; i < 3; i += 1) {
        receivers.push(
          (await ctx.receiver(await ctx.connection(), { name, broadcast: true, reliable: true })).collector,
        );
      }
      const send = await ctx.sender(await ctx.connection(), { name, broadcast: true, reliable: true });
      const items = texts('b', 30);
      await sendAll(send, items);
      for (const [i, collector] of receivers.entries()) {
        await collector.untilCount(items.length, ctx.waitMillis);
        checkSameList(collector.texts, items, `receiver ${i}`);
      }
    },
    { requires: ['broadcast'] },
  ),

  defineCase(
    'broadcast',
    'receivers-on-one-connection',
    'three broadcast receivers of one name on one connection: each gets every message, in order',
    async (ctx) => {
      const name = ctx.name();
      const conn = await ctx.connection();
      const receivers: Collector[] = [];
      for (let i = 0; i < 3; i += 1)
        receivers.push((await ctx.receiver(conn, { name, broadcast: true, reliable: true })).collector);
      const send = await ctx.sender(await ctx.connection(), { name, broadcast: true, reliable: true });
      const items = texts('b', 61);
      await sendAll(send, items);
      for (const collector of receivers) await collector.untilCount(items.length, ctx.waitMillis);
      await ctx.quiet();
      for (const [i, collector] of receivers.entries())
        checkSameList(collector.texts, items, `receiver ${i}`);
    },
    { requires: ['broadcast', 'sameConnectionReceivers'] },
  ),

  defineCase(
    'broadcast',
    'late-joiner',
    'a receiver that joins late does not get earlier messages',
    async (ctx) => {
      const name = ctx.name();
      const { collector: early } = await ctx.receiver(await ctx.connection(), { name, broadcast: true });
      const send = await ctx.sender(await ctx.connection(), { name, broadcast: true });
      await sendAll(send, ['before']);
      await early.untilText('before', ctx.waitMillis);
      const { collector: late } = await ctx.receiver(await ctx.connection(), { name, broadcast: true });
      await sendAll(send, ['after']);
      await late.untilText('after', ctx.waitMillis);
      await early.untilText('after', ctx.waitMillis);
      checkSameList(late.texts, ['after'], 'late receiver');
      checkSameList(early.texts, ['before', 'after'], 'early receiver');
    },
    { requires: ['broadcast'] },
  ),

  defineCase(
    'broadcast',
    'no-collision-with-unicast',
    'unicast and broadcast queues with the same name do not collide',
    async (ctx) => {
      const name = ctx.name();
      const conn = await ctx.connection();
      const { collector: uni } = await ctx.receiver(conn, { name });
      const { collector: fan } = await ctx.receiver(conn, { name, broadcast: true });
      const uniSend = await ctx.sender(conn, { name });
      const fanSend = await ctx.sender(conn, { name, broadcast: true });
      await sendAll(uniSend, ['u1', 'u2', 'uend']);
      await sendAll(fanSend, ['b1', 'b2', 'bend']);
      await uni.untilText('uend', ctx.waitMillis);
      await fan.untilText('bend', ctx.waitMillis);
      await sendAll(uniSend, ['ufinal']);
      await sendAll(fanSend, ['bfinal']);
      await uni.untilText('ufinal', ctx.waitMillis);
      await fan.untilText('bfinal', ctx.waitMillis);
      checkSameList(uni.texts, ['u1', 'u2', 'uend', 'ufinal'], 'unicast receiver');
      checkSameList(fan.texts, ['b1', 'b2', 'bend', 'bfinal'], 'broadcast receiver');
    },
    { requires: ['broadcast', 'broadcastIsolated'] },
  ),

  defineCase(
    'broadcast',
    'no-receivers',
    'a broadcast with no receivers resolves and is dropped, not delivered to a receiver that joins later',
    async (ctx) => {
      const name = ctx.name();
      const send = await ctx.sender(await ctx.connection(), { name, broadcast: true, reliable: true });
      await sendAll(send, ['nobody']);
      const { collector } = await ctx.receiver(await ctx.connection(), {
        name,
        broadcast: true,
        reliable: true,
      });
      await sendAll(send, ['somebody']);
      await collector.untilText('somebody', ctx.waitMillis);
      checkSameList(collector.texts, ['somebody'], 'receiver');
    },
    { requires: ['broadcast'] },
  ),
];
