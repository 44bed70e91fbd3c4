import type { Message } from '../../api/message.js';
import type { Queue } from '../../api/queue.js';
import type { SendOptions } from '../../api/send-options.js';
import { check, checkEqual, checkRejectsCode } from '../assert.js';
import type { ContractContext } from '../context.js';
import type { ContractCase } from '../types.js';
import { defineCase } from './define.js';

/** The metadata a message was sent with, as its receiver should see it. */
function expected(options: SendOptions | undefined): Record<string, unknown> {
  return {
    headers: options?.headers ?? {},
    messageId: options?.messageId,
    correlationId: options?.correlationId,
    contentType: options?.contentType,
  };
}

/** What a received message carries, in the shape of {@link expected}. */
function seen(message: Message): Record<string, unknown> {
  return {
    headers: { ...message.headers },
    messageId: message.messageId,
    correlationId: message.correlationId,
    contentType: message.contentType,
  };
}

/** Fails unless `message` carries exactly the metadata it was sent with (and an empty, frozen-or-not `{}` when none). */
export function checkMetadata(message: Message, options: SendOptions | undefined, what: string): void {
  checkEqual(JSON.stringify(seen(message)), JSON.stringify(expected(options)), `${what}: metadata`);
  check(
    message.timestamp === undefined ||
      (Number.isFinite(message.timestamp) && Math.abs(Date.now() - message.timestamp) < 600_000),
    `${what}: timestamp is absent or milliseconds since the epoch, got ${String(message.timestamp)}`,
  );
}

/** Sends each of `sends` in order and collects the messages the receiver gets; returns them in arrival order. */
async function roundTrip(
  ctx: ContractContext,
  mode: { broadcast: boolean; reliable: boolean },
  sends: ReadonlyArray<{ text: string; options?: SendOptions }>,
): Promise<Message[]> {
  const name = ctx.name(`${mode.broadcast ? 'b' : 'u'}${mode.reliable ? 'r' : 'e'}`);
  const { collector } = await ctx.receiver(await ctx.connection(), { name, ...mode });
  const send: Queue = await ctx.sender(await ctx.connection(), { name, ...mode });
  for (const { text, options } of sends) await send.sendMsg(Buffer.from(text), options);
  await collector.untilCount(sends.length, ctx.waitMillis);
  return collector.received.map((r) => r.message);
}

/** Every kind of metadata at once. */
export const FULL: SendOptions = {
  headers: { tenant: 'acme', 'Trace-Id': 'abc-123', empty: '' },
  messageId: 'msg-0001',
  correlationId: 'req-42',
  contentType: 'application/json',
  expirationMillis: 600_000,
};

/** Message metadata: headers, ids, content type and expiration travel with the message; redeliveries keep them. */
export const metadataCases: ContractCase[] = [
  defineCase(
    'metadata',
    'round-trip',
    'headers, message id, correlation id and content type arrive as sent, unicast and broadcast, reliable and best effort; a plain send arrives with {} headers and no ids',
    async (ctx) => {
      const modes = [
        { broadcast: false, reliable: true },
        { broadcast: false, reliable: false },
        ...(ctx.target.backend.capabilities.broadcast
          ? [
              { broadcast: true, reliable: true },
              { broadcast: true, reliable: false },
            ]
          : []),
      ];
      for (const mode of modes) {
        const what = `${mode.broadcast ? 'broadcast' : 'unicast'} ${mode.reliable ? 'reliable' : 'best effort'}`;
        const sends = [
          { text: 'full', options: FULL },
          { text: 'plain' },
          { text: 'only-headers', options: { headers: { one: '1' } } },
          { text: 'empty-options', options: {} },
        ];
        const got = await roundTrip(ctx, mode, sends);
        for (const [i, { text, options }] of sends.entries()) {
          checkEqual(got[i]?.payload.toString(), text, `${what}: message ${i}`);
          checkMetadata(
            got[i] as Message,
            options && Object.keys(options).length > 0 ? options : undefined,
            `${what}, ${text}`,
          );
          checkEqual(got[i]?.redelivered, false, `${what}, ${text}: redelivered on a first delivery`);
        }
      }
    },
    { requires: ['metadata'] },
  ),

  defineCase(
    'metadata',
    'many-non-ascii-headers',
    'fifty headers, with non-ASCII names and values, arrive as sent',
    async (ctx) => {
      const headers: Record<string, string> = {};
      for (let i = 0; i < 50; i += 1) headers[`h${i}-ñ`] = `value ${i}: é 日本 🚀`;
      const [message] = await roundTrip(ctx, { broadcast: false, reliable: true }, [
        { text: 'many', options: { headers } },
      ]);
      checkEqual(JSON.stringify(message?.headers), JSON.stringify(headers), 'headers');
    },
    { requires: ['metadata'] },
  ),

  defineCase(
    'metadata',
    'redelivered-keeps-metadata',
    'a nacked message comes again with the same metadata and redelivered true (false the first time)',
    async (ctx) => {
      const name = ctx.name();
      const seenMessages: Message[] = [];
      await ctx.receiver(await ctx.connection(), { name, reliable: true }, (r) => {
        seenMessages.push(r.message);
        return seenMessages.length === 1 ? r.message.nack() : r.message.ack();
      });
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      await send.sendMsg(Buffer.from('again'), FULL);
      await ctx.poll(() => seenMessages.length >= 2, 'the nacked message to come again');
      const [first, second] = seenMessages as [Message, Message];
      checkEqual(first.redelivered, false, 'redelivered, first delivery');
      checkEqual(second.redelivered, true, 'redelivered, after the nack');
      checkMetadata(first, FULL, 'first delivery');
      checkMetadata(second, FULL, 'redelivery');
    },
    { requires: ['metadata', 'nackRequeue'] },
  ),

  defineCase(
    'metadata',
    'refused-without-capability',
    'a backend without metadata rejects a send that carries any with UNSUPPORTED, and plain sends (and empty options) still work',
    async (ctx) => {
      const name = ctx.name();
      const { collector } = await ctx.receiver(await ctx.connection(), { name, reliable: true });
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      for (const options of [
        { headers: { a: 'b' } },
        { messageId: 'm' },
        { correlationId: 'c' },
        { contentType: 't' },
        { expirationMillis: 1000 },
      ]) {
        await checkRejectsCode(
          () => send.sendMsg(Buffer.from('refused'), options),
          'UNSUPPORTED',
          `a send with ${Object.keys(options)[0]}`,
        );
      }
      await send.sendMsg(Buffer.from('plain'));
      await send.sendMsg(Buffer.from('empty'), {});
      await collector.untilCount(2, ctx.waitMillis);
      await ctx.quiet();
      checkEqual(collector.texts.join(','), 'plain,empty', 'what arrived');
    },
    { requires: ['no:metadata'] },
  ),

  defineCase(
    'metadata',
    'bad-send-options',
    'send options of the wrong shape reject with INVALID_ARGUMENT naming the field, on every backend, and nothing is sent',
    async (ctx) => {
      const name = ctx.name();
      const { collector } = await ctx.receiver(await ctx.connection(), { name, reliable: true });
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      const bad: Array<[unknown, string]> = [
        ['headers', 'must be an object'],
        [{ headers: 'x' }, 'headers'],
        [{ headers: { a: 1 } }, 'header'],
        [{ headers: { 'mq-own': 'x' } }, 'reserved'],
        [{ headers: { '': 'x' } }, 'header name'],
        [{ messageId: '' }, 'messageId'],
        [{ correlationId: 'x'.repeat(256) }, 'correlationId'],
        [{ contentType: 7 }, 'contentType'],
        [{ expirationMillis: -1 }, 'expirationMillis'],
        [{ expirationMillis: 1.5 }, 'expirationMillis'],
        [{ priority: 5 }, 'priority'],
        [{ headers: { note: 'two\nlines' } }, 'control characters'],
        [{ headers: { 'tab\tname': 'x' } }, 'control characters'],
        [{ contentType: 'text/plain\u0000' }, 'control characters'],
        [{ headers: { odd: '\ud800' } }, 'unpaired surrogates'],
        [{ headers: JSON.parse('{"__proto__": "x"}') }, '__proto__'],
        [{ messageId: 'é'.repeat(200) }, 'messageId'],
      ];
      for (const [options, field] of bad) {
        const error = await checkRejectsCode(
          () => send.sendMsg(Buffer.from('bad'), options as SendOptions),
          'INVALID_ARGUMENT',
          `options ${JSON.stringify(options)}`,
        );
        check(
          error.message.includes(field),
          `the error for ${JSON.stringify(options)} names ${field}: ${error.message}`,
        );
      }
      await send.sendMsg(Buffer.from('good'));
      await collector.untilText('good', ctx.waitMillis);
      await ctx.quiet();
      checkEqual(collector.texts.join(','), 'good', 'what arrived');
    },
  ),
];
