import { check, checkCode, checkEqual, checkSameBytes, checkSameList } from '../assert.js';
import type { Received } from '../context.js';
import type { ContractCase } from '../types.js';
import { defineCase, sendAll, texts } from './define.js';

/** At-least-once delivery: confirmed sends, acks, nacks and redelivery. */
export const reliableCases: ContractCase[] = [
  defineCase(
    'reliable',
    'send-resolves-when-stored',
    'a reliable send resolves only once the broker has the message: closing the sender right after loses nothing',
    async (ctx) => {
      const name = ctx.name();
      const { collector } = await ctx.receiver(await ctx.connection(), { name, reliable: true });
      for (let round = 0; round < 5; round += 1) {
        const conn = await ctx.connection();
        const send = await ctx.sender(conn, { name, reliable: true });
        await sendAll(send, texts(`round${round}`, 20));
        await conn.close();
      }
      await collector.untilCount(100, ctx.waitMillis);
      const expected = [0, 1, 2, 3, 4].flatMap((round) => texts(`round${round}`, 20));
      checkSameList([...collector.texts].sort(), expected.sort(), 'every confirmed message');
    },
  ),

  defineCase(
    'reliable',
    'nack-redelivers',
    'a nacked message is delivered again',
    async (ctx) => {
      const name = ctx.name();
      let first = true;
      const { collector } = await ctx.receiver(
        await ctx.connection(),
        { name, reliable: true },
        async (r: Received) => {
          if (first) {
            first = false;
            await r.message.nack();
          } else {
            await r.message.ack();
          }
        },
      );
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      await send.sendMsg(Buffer.from('again'));
      await collector.untilCount(2, ctx.waitMillis);
      checkSameList(collector.texts, ['again', 'again'], 'deliveries');
    },
    { requires: ['nackRequeue'] },
  ),

  defineCase(
    'reliable',
    'nack-redelivers-original-bytes',
    'a nacked message comes again with its original bytes, whatever the handler did to the first copy',
    async (ctx) => {
      const name = ctx.name();
      const original = Buffer.from(Array.from({ length: 301 }, (_, i) => (i * 7) % 256));
      const deliveries: Buffer[] = [];
      const { collector } = await ctx.receiver(
        await ctx.connection(),
        { name, reliable: true },
        async (r: Received) => {
          deliveries.push(Buffer.from(r.payload));
          if (deliveries.length === 1) {
            // A handler that reuses the buffer it was given (decodes in place, zeroes a secret) and then fails.
            r.payload.fill(0);
            await r.message.nack();
          } else {
            await r.message.ack();
          }
        },
      );
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      await send.sendMsg(Buffer.from(original));
      await collector.untilCount(2, ctx.waitMillis);
      checkSameBytes(deliveries[0] as Buffer, original, 'first delivery');
      checkSameBytes(deliveries[1] as Buffer, original, 'redelivery after the handler zeroed the first copy');
    },
    { requires: ['nackRequeue'] },
  ),

  defineCase(
    'reliable',
    'ack-settles-only-its-message',
    'acking the last of three delivered messages settles that one only: the first two come again after the receiver closes',
    async (ctx) => {
      const name = ctx.name();
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      const first = await ctx.receiver(await ctx.connection(), { name, reliable: true }, 'none');
      await sendAll(send, ['one', 'two', 'three']);
      await first.collector.untilCount(3, ctx.waitMillis);
      const last = first.collector.received.find((r) => r.text === 'three');
      check(last, 'the third message');
      await last.message.ack();
      await first.queue.close();
      const second = await ctx.receiver(await ctx.connection(), { name, reliable: true });
      await second.collector.untilCount(2, ctx.waitMillis);
      await send.sendMsg(Buffer.from('marker'));
      await second.collector.untilText('marker', ctx.waitMillis);
      checkSameList(
        second.collector.texts.filter((t) => t !== 'marker').sort(),
        ['one', 'two'],
        'redelivered after the receiver closed (the acked third must not be among them)',
      );
    },
    { requires: ['redeliverUnacked'] },
  ),

  defineCase(
    'reliable',
    'unacked-redelivered',
    'messages a receiver never acked are delivered again after it closes and a receiver comes back',
    async (ctx) => {
      const name = ctx.name();
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      const first = await ctx.receiver(await ctx.connection(), { name, reliable: true }, 'none');
      const items = texts('unacked', 5);
      await sendAll(send, items);
      await first.collector.untilCount(items.length, ctx.waitMillis);
      await first.queue.close();
      const second = await ctx.receiver(await ctx.connection(), { name, reliable: true });
      await second.collector.untilCount(items.length, ctx.waitMillis);
      checkSameList([...second.collector.texts].sort(), [...items].sort(), 'redelivered');
    },
    { requires: ['redeliverUnacked'] },
  ),

  defineCase(
    'reliable',
    'random-nacks',
    'with 10% nacked at random while 1000 flow, all 1000 are finally acked',
    async (ctx) => {
      const name = ctx.name();
      const acked = new Set<string>();
      let nacks = 0;
      const { collector } = await ctx.receiver(
        await ctx.connection(),
        { name, reliable: true },
        async (r: Received) => {
          if (Math.random() < 0.1) {
            nacks += 1;
            await r.message.nack();
          } else {
            await r.message.ack();
            acked.add(r.text);
          }
        },
      );
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      const items = texts('n', 1000);
      await Promise.all(items.map((item) => send.sendMsg(Buffer.from(item))));
      await ctx.poll(
        () => acked.size === items.length,
        `all 1000 acked (have ${acked.size})`,
        ctx.waitMillis * 3,
      );
      check(nacks > 0, 'some messages were nacked');
      check(collector.received.length >= items.length + nacks, 'nacked messages came again');
      for (const item of items) check(acked.has(item), `${item} acked`);
    },
    { requires: ['nackRequeue'], timeoutMillis: 90_000 },
  ),

  defineCase(
    'reliable',
    'prefetch-bounds-unacked',
    'a receiver with prefetch 2 that does not ack holds exactly 2 messages, and each ack lets one more in',
    async (ctx) => {
      const name = ctx.name();
      const { collector } = await ctx.receiver(
        await ctx.connection(),
        { name, reliable: true, prefetch: 2 },
        'none',
      );
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      await sendAll(send, texts('p', 6));
      await collector.untilCount(2, ctx.waitMillis);
      // "No third message" can only be seen by giving an over-eager backend time to deliver one.
      await ctx.quiet();
      checkEqual(collector.received.length, 2, 'messages held with prefetch 2');
      await collector.received[0]!.message.ack();
      await collector.untilCount(3, ctx.waitMillis);
      await ctx.quiet();
      checkEqual(collector.received.length, 3, 'messages held after one ack');
      // Drain: ack whatever arrives until all 6 came (a second ack of a message is ignored).
      await ctx.poll(() => {
        for (const received of collector.received) void received.message.ack();
        return collector.received.length === 6;
      }, 'all 6 messages while acking');
      for (const received of collector.received) await received.message.ack();
    },
    { requires: ['prefetch'] },
  ),

  defineCase(
    'reliable',
    'prefetch-fifty-bounds-unacked',
    'a receiver with prefetch 50 that does not ack holds exactly 50 of 120 messages, exactly 60 after 10 acks, and all 120 once it acks',
    async (ctx) => {
      const name = ctx.name();
      const { collector } = await ctx.receiver(
        await ctx.connection(),
        { name, reliable: true, prefetch: 50 },
        'none',
      );
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      const items = texts('f', 120);
      await Promise.all(items.map((item) => send.sendMsg(Buffer.from(item, 'latin1'))));
      await collector.untilCount(50, ctx.waitMillis);
      await ctx.quiet();
      checkEqual(collector.received.length, 50, 'messages held with prefetch 50');
      for (const received of collector.received.slice(0, 10)) await received.message.ack();
      await collector.untilCount(60, ctx.waitMillis);
      await ctx.quiet();
      checkEqual(collector.received.length, 60, 'messages held after 10 acks');
      await ctx.poll(() => {
        for (const received of collector.received) void received.message.ack();
        return new Set(collector.texts).size === 120;
      }, 'all 120 messages while acking');
      for (const received of collector.received) await received.message.ack();
    },
    { requires: ['prefetch'] },
  ),

  defineCase(
    'reliable',
    'double-settle',
    'a second ack or nack of the same message is ignored and the queue keeps working',
    async (ctx) => {
      const name = ctx.name();
      const { collector } = await ctx.receiver(
        await ctx.connection(),
        { name, reliable: true },
        async (r: Received) => {
          await r.message.ack();
          await r.message.ack();
          await r.message.nack();
        },
      );
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      await sendAll(send, ['one', 'two']);
      await collector.untilCount(2, ctx.waitMillis);
      await sendAll(send, ['three']);
      await collector.untilText('three', ctx.waitMillis);
      checkSameList(collector.texts, ['one', 'two', 'three'], 'each delivered once');
      checkEqual(collector.errors.length, 0, 'queue errors');
    },
  ),

  defineCase(
    'reliable',
    'handler-throws',
    'a handler that throws or rejects emits HANDLER_FAILED, crashes nothing, and later messages are still handled',
    async (ctx) => {
      const name = ctx.name();
      const { collector, queue } = await ctx.receiver(
        await ctx.connection(),
        { name, reliable: true },
        async (r: Received) => {
          if (r.text === 'throw') throw new Error('handler bug');
          if (r.text === 'reject') return Promise.reject(new Error('async handler bug'));
          await r.message.ack();
        },
      );
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      await sendAll(send, ['throw', 'reject', 'fine']);
      await collector.untilText('fine', ctx.waitMillis);
      await ctx.poll(() => collector.errors.length >= 2, 'two handler errors');
      for (const error of collector.errors) checkCode(error, 'HANDLER_FAILED', 'handler error');
      checkEqual(queue.status, 'connected', 'receiver status');
    },
  ),

  defineCase(
    'reliable',
    'handler-throws-without-error-listener',
    'a handler that throws or rejects on a receiver nobody listens to for errors crashes nothing, and later messages are still handled',
    async (ctx) => {
      const name = ctx.name();
      const handled: string[] = [];
      const queue = ctx.newQueue(await ctx.connection(), { name, isRecv: true, reliable: true });
      // No 'error' listener, on purpose: the error must be dropped, never thrown into the process (the runner
      // fails the case on an uncaught exception or an unhandled rejection).
      queue.setMsgHandler(async (_q, message) => {
        const text = message.payload.toString('latin1');
        if (text === 'throw') throw new Error('handler bug');
        if (text === 'reject') return Promise.reject(new Error('async handler bug'));
        handled.push(text);
        return message.ack();
      });
      queue.connect();
      await ctx.waitStatus(queue, 'connected');
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      await sendAll(send, ['throw', 'reject', 'fine']);
      await ctx.poll(() => handled.includes('fine'), 'the message after the failing ones');
      await ctx.quiet();
      checkEqual(queue.status, 'connected', 'receiver status');
    },
  ),

  defineCase(
    'reliable',
    'handler-failure-not-acked',
    'a message whose handler failed is not lost when the receiver closes before its retry: it comes again to the next receiver',
    async (ctx) => {
      const name = ctx.name();
      const first = await ctx.receiver(await ctx.connection(), { name, reliable: true }, async () => {
        throw new Error('handler bug');
      });
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      await sendAll(send, ['fragile']);
      await first.collector.untilCount(1, ctx.waitMillis);
      await first.queue.close();
      const second = await ctx.receiver(await ctx.connection(), { name, reliable: true });
      await second.collector.untilText('fragile', ctx.waitMillis);
    },
    { requires: ['redeliverUnacked'] },
  ),
];
