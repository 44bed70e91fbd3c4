import type { Message } from '../../api/message.js';
import type { SendOptions } from '../../api/send-options.js';
import { check, checkEqual } from '../assert.js';
import type { ContractContext } from '../context.js';
import type { ContractCase } from '../types.js';
import { defineCase, sendAll, texts } from './define.js';
import { checkMetadata, FULL } from './metadata.js';

/** Three messages, each with other metadata, keyed by their text. */
const KINDS: ReadonlyArray<{ text: string; options: SendOptions | undefined }> = [
  { text: 'full', options: FULL },
  { text: 'ids', options: { messageId: 'id-7', correlationId: 'corr-7', contentType: 'text/plain' } },
  { text: 'headers', options: { headers: { tenant: 'globex', 'X-Note': 'ü' } } },
  { text: 'plain', options: undefined },
];

/** What a handler that misuses the headers it was given does: change, add and delete (a frozen object refuses). */
function vandalize(headers: Readonly<Record<string, string>>): void {
  const writable = headers as Record<string, string>;
  try {
    writable.tenant = 'changed by a handler';
    writable.added = 'by a handler';
    delete writable['Trace-Id'];
  } catch {
    // Frozen headers are one way to keep them a message's own.
  }
}

/** The headers of `message` as text, for comparisons. */
const shown = (message: Message | undefined): string => JSON.stringify({ ...message?.headers });

/** The headers every message of {@link FULL} was sent with, as text. */
const SENT_HEADERS = JSON.stringify({ ...FULL.headers });

/** Two broadcast receivers each change the headers they got: each must have got them as sent. */
async function broadcastCopiesOwnHeaders(ctx: ContractContext): Promise<void> {
  const name = ctx.name('broadcast');
  const firstSeen: string[] = [];
  const receivers = [];
  for (let i = 0; i < 2; i += 1) {
    receivers.push(
      await ctx.receiver(await ctx.connection(), { name, broadcast: true, reliable: true }, ({ message }) => {
        firstSeen.push(shown(message));
        vandalize(message.headers);
        return message.ack();
      }),
    );
  }
  const send = await ctx.sender(await ctx.connection(), { name, broadcast: true, reliable: true });
  await send.sendMsg(Buffer.from('shared'), FULL);
  for (const { collector } of receivers) await collector.untilCount(1, ctx.waitMillis);
  for (const [i, seen] of firstSeen.entries()) {
    checkEqual(seen, SENT_HEADERS, `broadcast delivery ${i}: headers when the handler got them`);
  }
}

/** A handler changes the headers it got and nacks: the redelivery must carry them as sent. */
async function redeliveryOwnHeaders(ctx: ContractContext): Promise<void> {
  const name = ctx.name('nacked');
  const seen: string[] = [];
  await ctx.receiver(await ctx.connection(), { name, reliable: true }, ({ message }) => {
    seen.push(shown(message));
    if (seen.length > 1) return message.ack();
    vandalize(message.headers);
    return message.nack();
  });
  const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
  await send.sendMsg(Buffer.from('again'), FULL);
  await ctx.poll(() => seen.length >= 2, 'the nacked message to come again');
  checkEqual(seen[1], SENT_HEADERS, 'headers of the delivery after a handler changed them and nacked');
}

/** Metadata beyond the round trip: backlogs, timestamps, headers owned per message, redeliveries, counts, expiry. */
export const moreMetadataCases: readonly ContractCase[] = [
  defineCase(
    'metadata',
    'kept-in-backlog',
    'messages sent before any receiver exists arrive with their headers, ids and content type on a receiver that starts later, reliable and best effort',
    async (ctx) => {
      for (const reliable of [true, false]) {
        const name = ctx.name(reliable ? 'reliable' : 'best-effort');
        const send = await ctx.sender(await ctx.connection(), { name, reliable });
        for (const { text, options } of KINDS) await send.sendMsg(Buffer.from(text), options);
        const { collector } = await ctx.receiver(await ctx.connection(), { name, reliable });
        await collector.untilCount(KINDS.length, ctx.waitMillis);
        for (const [i, { text, options }] of KINDS.entries()) {
          const got = collector.received[i];
          checkEqual(got?.text, text, `${reliable ? 'reliable' : 'best effort'}: message ${i}`);
          checkMetadata(got!.message, options, `${reliable ? 'reliable' : 'best effort'}, ${text}`);
        }
      }
    },
    { requires: ['metadata', 'retainUnicast'] },
  ),

  defineCase(
    'metadata',
    'timestamp-of-sending',
    'where a message carries a timestamp it is the time it was sent, not the time it was delivered (a backlog waits over a second first), and a nacked or retried message comes again with the same one',
    async (ctx) => {
      const name = ctx.name();
      const retained = ctx.target.backend.capabilities.retainUnicast;
      const items = ['nacked', 'retried'];
      const runs = new Map<string, Array<number | undefined>>(items.map((item) => [item, []]));
      const sender = await ctx.sender(await ctx.connection(), { name, reliable: true });
      const startReceiver = async (): Promise<void> => {
        await ctx.receiver(
          await ctx.connection(),
          { name, reliable: true, retryDelayMillis: 100 },
          async ({ text, message }) => {
            const seen = runs.get(text)!;
            seen.push(message.timestamp);
            if (seen.length > 1) return message.ack();
            // Later than the first delivery by far more than a clock's tick, so that a new stamp would show.
            await new Promise((resolve) => setTimeout(resolve, 50));
            if (text === 'nacked') return message.nack();
            throw new Error('the first try of a retried message fails');
          },
        );
      };
      if (!retained) await startReceiver();
      const sentFrom = Date.now();
      await sendAll(sender, items);
      const sentUntil = Date.now();
      if (retained) {
        // Delivered over a second after it was sent: a stamp of the delivery, even in whole seconds, shows.
        await ctx.quiet(1100);
        await startReceiver();
      }
      await ctx.poll(() => items.every((item) => runs.get(item)!.length >= 2), 'each message twice');
      // A stamp in whole seconds (AMQP's) may be up to a second before the send began.
      const earliest = Math.floor(sentFrom / 1000) * 1000;
      for (const item of items) {
        const [first, again] = runs.get(item)!;
        checkEqual(again, first, `${item}: the timestamp when it came again`);
        if (first === undefined) continue;
        check(
          first >= earliest && first <= sentUntil + 50,
          `${item}: timestamp ${first} is the time of sending (${sentFrom}..${sentUntil}), it is ${first - sentUntil} ms after the send`,
        );
      }
    },
    { requires: ['nackRequeue'] },
  ),

  defineCase(
    'metadata',
    'headers-are-own',
    "one message's headers are its own: what a handler does to the headers it was given never shows in another broadcast receiver's message, nor in a later delivery of the same message",
    async (ctx) => {
      await broadcastCopiesOwnHeaders(ctx);
      await redeliveryOwnHeaders(ctx);
    },
    { requires: ['metadata', 'broadcast', 'nackRequeue'] },
  ),

  defineCase(
    'metadata',
    'redelivered-after-receiver-lost',
    'a message its receiver held unacked when it closed or broke out of its messages() loop comes again with redelivered true and the metadata it was sent with',
    async (ctx) => {
      const name = ctx.name();
      const items = texts('held', 4);
      const optionsOf = (i: number): SendOptions => ({
        ...FULL,
        messageId: `held-id-${i}`,
        headers: { ...FULL.headers, index: String(i) },
      });
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      const first = await ctx.receiver(await ctx.connection(), { name, reliable: true }, 'none');
      for (const [i, item] of items.entries()) await send.sendMsg(Buffer.from(item), optionsOf(i));
      await first.collector.untilCount(items.length, ctx.waitMillis);
      for (const { message, text } of first.collector.received) {
        checkEqual(message.redelivered, false, `${text}: redelivered on its first delivery`);
      }
      await first.queue.close();
      // The next one takes them in a messages() loop and breaks out without acking.
      const looped = ctx.newQueue(await ctx.connection(), { name, isRecv: true, reliable: true });
      const loopSaw: Message[] = [];
      for await (const message of looped.messages()) {
        loopSaw.push(message);
        if (loopSaw.length === items.length) break;
      }
      const last = await ctx.receiver(await ctx.connection(), { name, reliable: true });
      await last.collector.untilCount(items.length, ctx.waitMillis);
      for (const [what, messages] of [
        ['after close()', loopSaw],
        ['after break', last.collector.received.map((r) => r.message)],
      ] as const) {
        for (const message of messages) {
          const text = message.payload.toString();
          const i = items.indexOf(text);
          check(i >= 0, `${what}: an unexpected message ${text}`);
          checkEqual(message.redelivered, true, `${what}, ${text}: redelivered`);
          checkMetadata(message, optionsOf(i), `${what}, ${text}`);
        }
      }
    },
    { requires: ['metadata', 'redeliverUnacked'] },
  ),

  defineCase(
    'metadata',
    'delivery-count-grows',
    'where deliveries are counted, deliveryCount tells how many times a message was handed out before: absent or 0 the first time, then one more each time it is retried',
    async (ctx) => {
      const name = ctx.name();
      const counts: Array<number | undefined> = [];
      await ctx.receiver(
        await ctx.connection(),
        { name, reliable: true, retryDelayMillis: 0 },
        ({ message }) => {
          counts.push(message.deliveryCount);
          if (counts.length < 4) throw new Error(`try ${counts.length} fails`);
          return message.ack();
        },
      );
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      await sendAll(send, ['counted']);
      await ctx.poll(() => counts.length >= 4, 'four deliveries');
      check(
        counts[0] === undefined || counts[0] === 0,
        `deliveryCount of the first delivery: expected absent or 0, got ${counts[0]}`,
      );
      checkEqual(JSON.stringify(counts.slice(1)), JSON.stringify([1, 2, 3]), 'deliveryCount of the retries');
    },
    { requires: ['countsDeliveries'] },
  ),

  defineCase(
    'metadata',
    'expiration',
    'a message that waited in a backlog past its expirationMillis is not delivered, while one within its expirationMillis and one without any are',
    async (ctx) => {
      const name = ctx.name();
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      await send.sendMsg(Buffer.from('expires'), { expirationMillis: 1000 });
      await send.sendMsg(Buffer.from('lasts'), { expirationMillis: 120_000 });
      await send.sendMsg(Buffer.from('forever'));
      // Loose bounds: twice the short expiration, a sixtieth of the long one.
      await ctx.quiet(2000);
      const { collector } = await ctx.receiver(await ctx.connection(), { name, reliable: true });
      await collector.untilText('forever', ctx.waitMillis);
      await ctx.quiet();
      checkEqual(collector.texts.join(','), 'lasts,forever', 'what the receiver got after 2 s');
    },
    { requires: ['metadata', 'retainUnicast'] },
  ),
];
