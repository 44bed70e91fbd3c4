import { MqError } from '../../api/errors.js';
import { check } from '../assert.js';
import type { Received } from '../context.js';
import type { ContractCase } from '../types.js';
import { defineCase, sendAll, texts } from './define.js';
import { expectDrained } from './workload.js';

/** What a send may reject with while its link is down; the app then resends it. */
const RETRYABLE = new Set(['CONNECTION_LOST', 'NOT_CONNECTED', 'TIMEOUT', 'CLOSED']);

/** Faults beyond the streams: a restart with messages in hand, a sender whose link comes back. */
export const moreFaultCases: readonly ContractCase[] = [
  defineCase(
    'faults',
    'restart-redelivers-held',
    'messages a receiver held unacked when the broker restarted come again after the restart, and the queue drains',
    async (ctx) => {
      const restart = ctx.target.faults?.restartBroker;
      check(restart, 'restartBroker fault hook');
      const name = ctx.name();
      const items = texts('held', 15);
      let holding = true;
      const held: Received[] = [];
      const { queue, collector } = await ctx.receiver(
        await ctx.connection(),
        { name, reliable: true, prefetch: 10 },
        (r) => {
          if (holding) {
            held.push(r);
            return undefined;
          }
          return r.message.ack();
        },
      );
      // Its acks across the restart may reject: those messages come again.
      collector.allowSettleFailures();
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      await sendAll(send, items);
      await ctx.poll(() => held.length >= 10, 'the receiver to hold 10 unacked messages');
      const heldTexts = held.map((r) => r.text);
      holding = false;
      await restart();
      const timesOf = (text: string): number => collector.texts.filter((t) => t === text).length;
      await ctx.poll(
        () => heldTexts.every((text) => timesOf(text) >= 2) && items.every((item) => timesOf(item) >= 1),
        () =>
          `the ${heldTexts.length} messages held at the restart to come again (came again: ${heldTexts.filter((t) => timesOf(t) >= 2).length})`,
        ctx.waitMillis * 3,
      );
      await expectDrained(ctx, name, [queue]);
    },
    { requires: ['fault:restartBroker', 'redeliverUnacked', 'retainUnicast'], timeoutMillis: 120_000 },
  ),

  defineCase(
    'faults',
    'sender-link-back-no-republish',
    "a sender's link drops while it sends and comes back: nothing it had confirmed is published again (each message confirmed at its first send arrives once), and what it resends arrives",
    async (ctx) => {
      const drop = ctx.target.faults?.dropConnection;
      check(drop, 'dropConnection fault hook');
      const name = ctx.name();
      const { collector } = await ctx.receiver(await ctx.connection(), { name, reliable: true });
      const senderConn = await ctx.connection();
      const seen = ctx.recordStatuses(senderConn);
      const send = await ctx.sender(senderConn, { name, reliable: true });
      const items = texts('sent', 300);
      const firstTry = new Set<string>();
      for (const item of items) {
        for (let attempt = 1; ; attempt += 1) {
          if (send.status !== 'connected') await ctx.waitStatus(send, 'connected');
          try {
            await send.sendMsg(Buffer.from(item, 'latin1'));
            if (attempt === 1) firstTry.add(item);
            break;
          } catch (error) {
            const code = MqError.isInstance(error) ? error.code : String(error);
            check(RETRYABLE.has(code), `a send rejected with ${code}, which an app cannot retry on`);
            await new Promise((resolve) => setImmediate(resolve));
          }
        }
        // The link drops right after the 100th send was confirmed: the next ones are made while it is down.
        if (item === 'sent-99') void drop(senderConn);
      }
      check(seen.includes('disconnected'), "the sender's link dropped during the sends");
      await send.sendMsg(Buffer.from('end'));
      await collector.untilText('end', ctx.waitMillis);
      await ctx.quiet();
      const counts = new Map<string, number>();
      for (const text of collector.texts) counts.set(text, (counts.get(text) ?? 0) + 1);
      const missing = items.filter((item) => !counts.has(item));
      check(
        missing.length === 0,
        `${missing.length} confirmed messages never came: ${missing.slice(0, 5).join(', ')}`,
      );
      const twice = [...firstTry].filter((item) => (counts.get(item) ?? 0) > 1);
      check(
        twice.length === 0,
        `${twice.length} message(s) confirmed at their first send came twice, so were published again after the link came back: ${twice.slice(0, 5).join(', ')}`,
      );
    },
    { requires: ['fault:dropConnection'] },
  ),
];
