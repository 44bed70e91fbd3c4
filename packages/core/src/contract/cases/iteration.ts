import type { Message } from '../../api/message.js';
import type { Queue } from '../../api/queue.js';
import { check, checkCode, checkEqual, checkThrowsCode } from '../assert.js';
import type { ContractCase } from '../types.js';
import { defineCase, sendAll, texts } from './define.js';

/** What one `for await` loop over `queue.messages()` did. */
interface LoopResult {
  /** Payload texts in the order the loop got them. */
  texts: string[];
  /** How the loop ended: normally, or with this error. */
  error: unknown;
}

/**
 * Runs `for await (const message of queue.messages(options))`, calling `body` for each; `body` returns false to
 * `break`. Every ack `body` makes must resolve (it awaits them).
 */
async function loop(
  queue: Queue,
  options: { signal?: AbortSignal },
  body: (message: Message, text: string, index: number) => Promise<boolean> | boolean,
): Promise<LoopResult> {
  const seen: string[] = [];
  try {
    for await (const message of queue.messages(options)) {
      const text = message.payload.toString('latin1');
      seen.push(text);
      if (!(await body(message, text, seen.length - 1))) break;
    }
    return { texts: seen, error: undefined };
  } catch (error) {
    return { texts: seen, error };
  }
}

/** `queue.messages()` as the alternative to `setMsgHandler()`. */
export const iterationCases: readonly ContractCase[] = [
  defineCase(
    'iteration',
    'backlog',
    'a for-await loop over messages() takes a backlog that waited before it started, in order, each acked once; break closes the receiver and leaves nothing behind',
    async (ctx) => {
      const name = ctx.name();
      const items = texts('job', 150);
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      await sendAll(send, items);
      const queue = ctx.newQueue(await ctx.connection(), {
        name,
        isRecv: true,
        reliable: true,
        prefetch: 10,
      });
      const result = await loop(queue, {}, async (message, _text, index) => {
        await message.ack();
        return index < items.length - 1;
      });
      checkEqual(result.error, undefined, 'how the loop ended');
      checkEqual(result.texts.join(','), items.join(','), 'what the loop got');
      checkEqual(queue.status, 'closed', 'the receiver after break');
      const after = await ctx.receiver(await ctx.connection(), { name, reliable: true });
      await ctx.quiet();
      checkEqual(after.collector.received.length, 0, 'messages left in the queue');
    },
    { requires: ['retainUnicast'] },
  ),

  defineCase(
    'iteration',
    'break-hands-back-unacked',
    'messages the loop took but did not ack before break come again to the next receiver, and the acked ones do not',
    async (ctx) => {
      const name = ctx.name();
      const items = texts('job', 30);
      const queue = ctx.newQueue(await ctx.connection(), {
        name,
        isRecv: true,
        reliable: true,
        prefetch: 10,
      });
      const looping = loop(queue, {}, async (message, _text, index) => {
        if (index < 20) await message.ack();
        // The 21st is taken and not acked; then break.
        return index < 20;
      });
      await ctx.waitStatus(queue, 'connected');
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      await sendAll(send, items);
      const result = await looping;
      checkEqual(result.error, undefined, 'how the loop ended');
      checkEqual(result.texts.length, 21, 'messages the loop took');
      checkEqual(queue.status, 'closed', 'the receiver after break');
      const next = await ctx.receiver(await ctx.connection(), { name, reliable: true });
      const rest = items.slice(20);
      await next.collector.until(
        (c) => rest.every((item) => c.texts.includes(item)),
        'the 10 not acked',
        ctx.waitMillis,
      );
      await ctx.quiet();
      const again = next.collector.texts.filter((text) => items.slice(0, 20).includes(text));
      checkEqual(again.join(','), '', 'acked messages that came again');
    },
    { requires: ['redeliverUnacked'] },
  ),

  defineCase(
    'iteration',
    'break-loses-nothing',
    'a loop broken off while it holds a message and more wait for it loses none: after its connection closes, every message not acked comes again (to the same session where the broker keeps them per session), and the acked ones do not',
    async (ctx) => {
      const name = ctx.name();
      const items = texts('job', 30);
      const session = ctx.target.sessionConnectionOptions?.();
      const first = await ctx.sessionConnection(session);
      const queue = ctx.newQueue(first, { name, isRecv: true, reliable: true, prefetch: 5 });
      const iterator = queue.messages();
      await ctx.waitStatus(queue, 'connected');
      // Every send resolved before the loop takes anything: each was confirmed while the receiver was there.
      await sendAll(await ctx.sender(await ctx.connection(), { name, reliable: true }), items);
      const seen: string[] = [];
      for (;;) {
        const next = await iterator.next();
        check(!next.done, `message ${seen.length + 1} of the loop`);
        seen.push(next.value.payload.toString('latin1'));
        // The 11th is held, not acked; then break (return()).
        if (seen.length === 11) break;
        await next.value.ack();
      }
      await iterator.return?.();
      checkEqual(queue.status, 'closed', 'the receiver after break');
      await first.close();
      const acked = seen.slice(0, 10);
      const rest = items.filter((item) => !acked.includes(item));
      const next = await ctx.receiver(await ctx.sessionConnection(session), { name, reliable: true });
      await next.collector.until(
        (c) => rest.every((item) => c.texts.includes(item)),
        `the ${rest.length} not acked`,
        ctx.waitMillis,
      );
      await ctx.quiet();
      const again = next.collector.texts.filter((text) => acked.includes(text));
      checkEqual(again.join(','), '', 'acked messages that came again');
    },
    { requires: ['keepsUnacked'] },
  ),

  defineCase(
    'iteration',
    'prefetch-bounds',
    'a loop that holds prefetch messages unacked gets no more until it acks: messages() buffers no more than the broker hands out',
    async (ctx) => {
      const name = ctx.name();
      const items = texts('job', 25);
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      await sendAll(send, items);
      const queue = ctx.newQueue(await ctx.connection(), { name, isRecv: true, reliable: true, prefetch: 4 });
      const iterator = queue.messages();
      const held: Message[] = [];
      for (let i = 0; i < 4; i += 1) {
        const next = await iterator.next();
        check(!next.done, `message ${i + 1} of the first four`);
        held.push(next.value);
      }
      const fifth = iterator.next();
      let fifthCame = false;
      void fifth.then(() => {
        fifthCame = true;
      });
      await ctx.quiet();
      checkEqual(fifthCame, false, 'a fifth message while four are unacked at prefetch 4');
      for (const message of held) await message.ack();
      const next = await fifth;
      check(!next.done, 'the fifth message once the four are acked');
      checkEqual(next.value.payload.toString('latin1'), 'job-4', 'the fifth message');
      await next.value.ack();
      await iterator.return?.();
      checkEqual(queue.status, 'closed', 'the receiver after return()');
    },
    { requires: ['retainUnicast', 'prefetch'] },
  ),

  defineCase(
    'iteration',
    'signal-ends',
    'aborting the signal ends the loop with ABORTED and closes the receiver; the acks made before resolved',
    async (ctx) => {
      const name = ctx.name();
      const controller = new AbortController();
      const queue = ctx.newQueue(await ctx.connection(), {
        name,
        isRecv: true,
        reliable: true,
        prefetch: 10,
      });
      const looping = loop(queue, { signal: controller.signal }, async (message, _text, index) => {
        await message.ack();
        if (index === 11) controller.abort();
        return true;
      });
      await ctx.waitStatus(queue, 'connected');
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      await sendAll(send, texts('job', 12));
      const result = await looping;
      checkCode(result.error, 'ABORTED', 'how the loop ended');
      checkEqual(result.texts.length, 12, 'messages the loop took');
      await ctx.waitStatus(queue, 'closed');
    },
  ),

  defineCase(
    'iteration',
    'close-ends',
    'close() on the receiver ends a loop waiting for a message, without an error',
    async (ctx) => {
      const name = ctx.name();
      const queue = ctx.newQueue(await ctx.connection(), { name, isRecv: true, reliable: true });
      let taken = 0;
      const looping = loop(queue, {}, async (message) => {
        await message.ack();
        taken += 1;
        return true;
      });
      await ctx.waitStatus(queue, 'connected');
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      await sendAll(send, ['one', 'two']);
      await ctx.poll(() => taken === 2, 'the loop to take both messages');
      await queue.close();
      const result = await looping;
      checkEqual(result.error, undefined, 'how the loop ended');
      checkEqual(result.texts.join(','), 'one,two', 'messages the loop took');
    },
  ),

  defineCase(
    'iteration',
    'misuse',
    'messages() refuses a sender (HANDLER_ON_SENDER), a receiver with a handler or already connected, and a signal that is not an AbortSignal (INVALID_ARGUMENT)',
    async (ctx) => {
      const conn = await ctx.connection();
      const name = ctx.name();
      checkThrowsCode(
        () => ctx.newQueue(conn, { name, isRecv: false }).messages(),
        'HANDLER_ON_SENDER',
        'on a sender',
      );
      const handled = ctx.newQueue(conn, { name, isRecv: true });
      handled.setMsgHandler(() => {});
      checkThrowsCode(() => handled.messages(), 'INVALID_ARGUMENT', 'on a receiver with a handler');
      const bad = ctx.newQueue(conn, { name: ctx.name(), isRecv: true });
      checkThrowsCode(
        () => bad.messages({ signal: 'stop' as unknown as AbortSignal }),
        'INVALID_ARGUMENT',
        'with a signal that is not an AbortSignal',
      );
      const twice = ctx.newQueue(conn, { name: ctx.name(), isRecv: true });
      const first = twice.messages();
      checkThrowsCode(() => twice.messages(), 'INVALID_ARGUMENT', 'a second messages() on the same receiver');
      check(typeof first[Symbol.asyncIterator] === 'function', 'messages() returns an async iterator');
      await first.return?.();
      checkEqual(twice.status, 'closed', 'the receiver after return()');
    },
  ),
];
