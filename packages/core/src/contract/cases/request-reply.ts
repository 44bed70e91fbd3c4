import type { Message } from '../../api/message.js';
import type { Reply } from '../../api/reply.js';
import { check, checkCode, checkEqual, checkRejectsCode } from '../assert.js';
import type { ContractContext, Received } from '../context.js';
import type { ContractCase } from '../types.js';
import { defineCase, texts } from './define.js';

const text = (value: { payload: Buffer }): string => value.payload.toString('latin1');
const bytes = (value: string): Buffer => Buffer.from(value, 'latin1');

/** A deadline short enough to wait out in a case, long enough for a broker round trip (scaled, at least 50 ms). */
function shortMillis(ctx: ContractContext, millis = 500): number {
  return Math.max(50, Math.round(millis * (ctx.target.timeScale ?? 1)));
}

/** Answers `re:<text>`, then acks. */
async function answer({ message, text: body }: Received): Promise<void> {
  await message.reply(bytes(`re:${body}`));
  await message.ack();
}

/** A promise and the function that resolves it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = (): void => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** A server on its own connection that answers with `settle`, and a connected sender of the same name. */
async function pair(
  ctx: ContractContext,
  settle: (received: Received) => Promise<void> | void = answer,
  serverOptions: { retryDelayMillis?: number } = {},
) {
  const name = ctx.name();
  const server = await ctx.receiver(await ctx.connection(), { name, ...serverOptions }, settle);
  const conn = await ctx.connection();
  const client = await ctx.sender(conn, { name });
  return { name, server, client, conn };
}

/** Request and reply: one call on every backend, interoperable with plain clients (issue 28). */
export const requestReplyCases: readonly ContractCase[] = [
  defineCase(
    'request-reply',
    'concurrent-own-replies',
    'concurrent requests each get their own reply, also when the server answers them in another order',
    async (ctx) => {
      const items = texts('req', 20);
      const held: Received[] = [];
      const { client } = await pair(ctx, async (received) => {
        held.push(received);
        if (held.length < items.length) return;
        // All in: answer the last first, so that replies come in the reverse order of the requests.
        for (const one of held.reverse()) await answer(one);
      });
      const replies = await Promise.all(
        items.map((item) => client.request(bytes(item), { timeoutMillis: ctx.waitMillis })),
      );
      for (const [i, reply] of replies.entries()) {
        checkEqual(text(reply), `re:${items[i]}`, `the reply to request ${i}`);
      }
      checkEqual(client.droppedReplies, 0, 'replies dropped');
    },
    { requires: ['requestReply'] },
  ),

  defineCase(
    'request-reply',
    'timeout-late-reply-dropped',
    'a request without reply rejects TIMEOUT after timeoutMillis, and its late reply reaches no other request: it is dropped and counted',
    async (ctx) => {
      const late = gate();
      const lateSent = gate();
      const { client } = await pair(ctx, async (received) => {
        if (received.text === 'late') {
          await late.opened;
          await answer(received);
          lateSent.open();
          return;
        }
        // The next request waits while the late reply goes out, so that one waiting request is there to take it.
        await lateSent.opened;
        await answer(received);
      });
      const timeoutMillis = shortMillis(ctx);
      const started = performance.now();
      await checkRejectsCode(
        () => client.request(bytes('late'), { timeoutMillis }),
        'TIMEOUT',
        'the request',
      );
      const took = performance.now() - started;
      check(
        took >= timeoutMillis - 5,
        `TIMEOUT after ${Math.round(took)} ms, before its ${timeoutMillis} ms`,
      );
      check(took < timeoutMillis + ctx.waitMillis, `TIMEOUT after ${Math.round(took)} ms`);
      const next = client.request(bytes('next'), { timeoutMillis: ctx.waitMillis });
      late.open();
      checkEqual(text(await next), 're:next', 'the reply to the next request');
      await ctx.poll(
        () => client.droppedReplies === 1,
        () => `1 dropped reply (${client.droppedReplies})`,
      );
    },
    { requires: ['requestReply'] },
  ),

  defineCase(
    'request-reply',
    'timeout-expires-request',
    'a request that timed out while no server was there also expired on the broker: a server that comes later never sees it',
    async (ctx) => {
      const name = ctx.name();
      const client = await ctx.sender(await ctx.connection(), { name });
      const timeoutMillis = shortMillis(ctx, 300);
      await checkRejectsCode(
        () => client.request(bytes('expired'), { timeoutMillis }),
        'TIMEOUT',
        'the request',
      );
      await ctx.quiet(timeoutMillis);
      const server = await ctx.receiver(await ctx.connection(), { name }, answer);
      checkEqual(
        text(await client.request(bytes('fresh'), { timeoutMillis: ctx.waitMillis })),
        're:fresh',
        'the reply to a request the server was there for',
      );
      await ctx.quiet();
      checkEqual(server.collector.texts.join(','), 'fresh', 'what the late server got');
    },
    { requires: ['requestReply', 'retainUnicast'] },
  ),

  defineCase(
    'request-reply',
    'abort',
    'aborting a request rejects it ABORTED at once and its reply is dropped; a request with an aborted signal is not sent',
    async (ctx) => {
      const controller = new AbortController();
      const aborted = gate();
      controller.signal.addEventListener('abort', aborted.open);
      const { client, server } = await pair(ctx, async (received) => {
        if (received.text === 'abort-me') await aborted.opened;
        await answer(received);
      });
      await checkRejectsCode(
        () => client.request(bytes('never-sent'), { signal: AbortSignal.abort() }),
        'ABORTED',
        'a request with an aborted signal',
      );
      const request = client.request(bytes('abort-me'), {
        signal: controller.signal,
        timeoutMillis: ctx.waitMillis,
      });
      await server.collector.untilText('abort-me', ctx.waitMillis);
      controller.abort();
      await checkRejectsCode(() => request, 'ABORTED', 'the aborted request');
      await ctx.poll(
        () => client.droppedReplies === 1,
        () => `1 dropped reply (${client.droppedReplies})`,
      );
      checkEqual(
        text(await client.request(bytes('after'), { timeoutMillis: ctx.waitMillis })),
        're:after',
        'a request after the abort',
      );
      check(!server.collector.texts.includes('never-sent'), 'the server never got the pre-aborted request');
    },
    { requires: ['requestReply'] },
  ),

  defineCase(
    'request-reply',
    'metadata-both-ways',
    'headers, content type and ids travel with the request and with the reply; the reply carries the request’s correlation id',
    async (ctx) => {
      let seen: Message | undefined;
      const { client } = await pair(ctx, async ({ message }) => {
        seen = message;
        await message.reply(bytes('{"ok":true}'), {
          headers: { 'x-reply': 'from-server' },
          contentType: 'application/json',
          messageId: 'reply-1',
        });
        await message.ack();
      });
      const reply: Reply = await client.request(bytes('ask'), {
        headers: { 'x-request': 'from-client' },
        contentType: 'text/plain',
        messageId: 'request-1',
        timeoutMillis: ctx.waitMillis,
      });
      check(seen, 'the server got the request');
      checkEqual(seen.headers['x-request'], 'from-client', 'request header at the server');
      checkEqual(seen.contentType, 'text/plain', 'request content type at the server');
      checkEqual(seen.messageId, 'request-1', 'request message id at the server');
      check(typeof seen.replyTo === 'string' && seen.replyTo.length > 0, 'the request has a replyTo');
      check(typeof seen.correlationId === 'string', 'the request has a correlation id');
      checkEqual(text(reply), '{"ok":true}', 'reply payload');
      checkEqual(reply.headers['x-reply'], 'from-server', 'reply header');
      checkEqual(reply.contentType, 'application/json', 'reply content type');
      checkEqual(reply.messageId, 'reply-1', 'reply message id');
      checkEqual(reply.correlationId, seen.correlationId, 'reply correlation id');
      const own = await client.request(bytes('ask'), {
        correlationId: 'corr-7',
        timeoutMillis: ctx.waitMillis,
      });
      checkEqual(own.correlationId, 'corr-7', 'the correlation id the app gave, carried back');
    },
    { requires: ['requestReply'] },
  ),

  defineCase(
    'request-reply',
    'server-throws-retried',
    'a server whose handler throws gets the request again as its retry policy says, and the reply then reaches the request',
    async (ctx) => {
      let calls = 0;
      const { client } = await pair(
        ctx,
        async (received) => {
          calls += 1;
          if (calls === 1) throw new Error('deliberate failure of the first attempt');
          await answer(received);
        },
        { retryDelayMillis: 0 },
      );
      const reply = await client.request(bytes('retry-me'), { timeoutMillis: ctx.waitMillis });
      checkEqual(text(reply), 're:retry-me', 'the reply after the retry');
      checkEqual(calls, 2, 'handler calls');
    },
    { requires: ['requestReply'] },
  ),

  defineCase(
    'request-reply',
    'reply-needs-reply-to',
    'reply() on a message sent without replyTo rejects INVALID_ARGUMENT',
    async (ctx) => {
      let outcome: Promise<unknown> | undefined;
      const { client, server } = await pair(ctx, async ({ message }) => {
        outcome = message.reply(bytes('nowhere'));
        outcome.catch(() => {});
        await message.ack();
      });
      await client.sendMsg(bytes('plain'));
      await server.collector.untilText('plain', ctx.waitMillis);
      check(outcome, 'the handler called reply()');
      try {
        await outcome;
      } catch (error) {
        checkCode(error, 'INVALID_ARGUMENT', 'reply() without replyTo');
        return;
      }
      check(false, 'reply() without replyTo resolved');
    },
    { requires: ['requestReply'] },
  ),

  defineCase(
    'request-reply',
    'link-drop',
    'a request waiting when its link drops rejects CONNECTION_LOST; once the link is back, requests get their replies again',
    async (ctx) => {
      const drop = ctx.target.faults?.dropConnection;
      check(drop, 'dropConnection fault hook');
      const hold = gate();
      const { client, conn, server } = await pair(ctx, async (received) => {
        if (received.text === 'in-flight') await hold.opened;
        await answer(received);
      });
      const seen = ctx.recordStatuses(client);
      const request = client.request(bytes('in-flight'), { timeoutMillis: ctx.waitMillis * 3 });
      request.catch(() => {});
      await server.collector.untilText('in-flight', ctx.waitMillis);
      await drop(conn);
      await checkRejectsCode(() => request, 'CONNECTION_LOST', 'the request in flight');
      await ctx.poll(
        () => seen.includes('disconnected') && client.status === 'connected',
        () => `the sender back (saw ${seen.join(' > ')})`,
      );
      hold.open();
      checkEqual(
        text(await client.request(bytes('after'), { timeoutMillis: ctx.waitMillis })),
        're:after',
        'a request after the link came back',
      );
    },
    { requires: ['requestReply', 'fault:dropConnection'], timeoutMillis: 60_000 },
  ),

  defineCase(
    'request-reply',
    'unsupported-refused',
    'a backend without request/reply rejects request() with UNSUPPORTED',
    async (ctx) => {
      const client = await ctx.sender(await ctx.connection(), { name: ctx.name() });
      await checkRejectsCode(
        () => client.request(bytes('x'), { timeoutMillis: shortMillis(ctx) }),
        'UNSUPPORTED',
        'request()',
      );
    },
    { requires: ['no:requestReply'] },
  ),
];
