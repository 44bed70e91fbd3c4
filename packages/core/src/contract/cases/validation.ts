import type { Connection } from '../../api/connection.js';
import type { Queue } from '../../api/queue.js';
import { check, checkCode, checkEqual, checkRejectsCode, checkThrowsCode } from '../assert.js';
import type { CaseQueueOptions, ContractContext } from '../context.js';
import type { ContractCase } from '../types.js';
import { defineCase, sendAll, texts } from './define.js';

const BAD_NAMES: readonly unknown[] = [
  '',
  'Upper',
  'a..b',
  '.a',
  'a.',
  'a/b',
  'a#',
  '#',
  'a+',
  '+',
  '$share/g/a',
  'a b',
  ' a',
  'caf\u00e9',
  '\u961f\u5217',
  'a*',
  'x'.repeat(256),
];

const GOOD_NAMES: readonly string[] = ['a', '0', 'a.b', 'a-b_c.d0', 'x'.repeat(200)];

/** Creates a queue with `options` as given (no defaults), as a JavaScript caller could. */
function rawQueue(ctx: ContractContext, options: unknown): void {
  const conn = ctx.newConnection();
  ctx.target.backend.createQueue(options as never, conn);
}

function queueOptions(ctx: ContractContext, overrides: Record<string, unknown>): Record<string, unknown> {
  return { name: ctx.name(), isRecv: true, prefetch: 10, ...overrides };
}

function checkInvalid(ctx: ContractContext, options: unknown, field: string, what: string): void {
  const error = checkThrowsCode(() => rawQueue(ctx, options), 'INVALID_OPTIONS', what);
  check(error.message.includes(field), `${what}: the message names '${field}' (${error.message})`);
}

/**
 * Fails unless making the queue (`createQueue`) or its `connect()` throws `UNSUPPORTED`; a receiver gets a
 * handler first, so that only the feature can be what is refused.
 */
function checkRefused(
  ctx: ContractContext,
  connection: Connection,
  options: CaseQueueOptions,
  what: string,
): void {
  let queue: Queue;
  try {
    queue = ctx.newQueue(connection, options);
  } catch (error) {
    checkCode(error, 'UNSUPPORTED', `${what}: createQueue`);
    return;
  }
  if (options.isRecv) queue.setMsgHandler(async (_queue, message) => message.ack());
  checkThrowsCode(() => queue.connect(), 'UNSUPPORTED', `${what}: createQueue accepted it, so connect()`);
  checkEqual(queue.status, 'closed', `${what}: status after the refused connect()`);
}

/** Every bad option and argument gets the typed error, naming the field. */
export const validationCases: ContractCase[] = [
  defineCase(
    'validation',
    'bad-names',
    'queue names that break the naming rule are rejected with INVALID_OPTIONS naming the field',
    async (ctx) => {
      for (const name of BAD_NAMES) {
        checkInvalid(ctx, queueOptions(ctx, { name }), 'name', `name ${JSON.stringify(name).slice(0, 40)}`);
      }
    },
  ),

  defineCase('validation', 'good-names', 'queue names that follow the rule are accepted', async (ctx) => {
    const conn = ctx.newConnection();
    for (const name of GOOD_NAMES) {
      const queue = ctx.target.backend.createQueue({ name, isRecv: false }, conn);
      checkEqual(queue.name, name, 'queue name');
      checkEqual(queue.isRecv, false, 'isRecv');
    }
  }),

  defineCase(
    'validation',
    'wrong-types',
    'queue options of the wrong type are rejected with INVALID_OPTIONS naming the field',
    async (ctx) => {
      checkInvalid(ctx, queueOptions(ctx, { name: 42 }), 'name', 'numeric name');
      checkInvalid(ctx, { name: ctx.name() }, 'isRecv', 'missing isRecv');
      checkInvalid(ctx, queueOptions(ctx, { isRecv: 'yes' }), 'isRecv', 'string isRecv');
      checkInvalid(ctx, queueOptions(ctx, { reliable: 1 }), 'reliable', 'numeric reliable');
      checkInvalid(ctx, queueOptions(ctx, { broadcast: 'no' }), 'broadcast', 'string broadcast');
      checkInvalid(
        ctx,
        queueOptions(ctx, { reconnectMillis: '1000' }),
        'reconnectMillis',
        'string reconnectMillis',
      );
      checkInvalid(ctx, queueOptions(ctx, { prefetch: '10' }), 'prefetch', 'string prefetch');
      checkInvalid(ctx, queueOptions(ctx, { reliabel: true }), 'reliabel', 'misspelt field');
      for (const options of [null, undefined, 'q', 42, ['q']]) {
        checkThrowsCode(() => rawQueue(ctx, options), 'INVALID_OPTIONS', `options ${String(options)}`);
      }
    },
  ),

  defineCase(
    'validation',
    'out-of-range',
    'out-of-range numbers are rejected with INVALID_OPTIONS naming the field',
    async (ctx) => {
      for (const field of ['reconnectMillis', 'sendTimeoutMillis']) {
        for (const value of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, '1000']) {
          checkInvalid(ctx, queueOptions(ctx, { [field]: value }), field, `${field} ${String(value)}`);
        }
      }
      for (const value of [0, -1, 1.5, Number.NaN, 2 ** 32]) {
        checkInvalid(ctx, queueOptions(ctx, { prefetch: value }), 'prefetch', `prefetch ${value}`);
      }
    },
  ),

  defineCase(
    'validation',
    'connection-options',
    'bad connection options are rejected with INVALID_OPTIONS naming the field',
    async (ctx) => {
      const base = ctx.target.connectionOptions();
      const cases: Array<[Record<string, unknown> | unknown, string]> = [
        [{ ...base, uri: 42 }, 'uri'],
        [{ ...base, uri: 'not a uri' }, 'uri'],
        [{ ...base, reconnectMillis: 0 }, 'reconnectMillis'],
        [{ ...base, reconnectMillis: 'soon' }, 'reconnectMillis'],
        [{ ...base, connectTimeoutMillis: -1 }, 'connectTimeoutMillis'],
        [{ ...base, connectTimeoutMillis: 1.5 }, 'connectTimeoutMillis'],
        [{ ...base, reconectMillis: 10 }, 'reconectMillis'],
        [{ ...base, reconnectMaxMillis: 0 }, 'reconnectMaxMillis'],
        [{ ...base, reconnectMillis: 500, reconnectMaxMillis: 499 }, 'reconnectMaxMillis'],
      ];
      for (const [options, field] of cases) {
        const error = checkThrowsCode(
          () => ctx.target.backend.createConnection(options as never),
          'INVALID_OPTIONS',
          `connection ${field}`,
        );
        check(
          error.message.includes(field),
          `connection ${field}: the message names the field (${error.message})`,
        );
      }
      checkThrowsCode(
        () => ctx.target.backend.createConnection(null as never),
        'INVALID_OPTIONS',
        'null connection options',
      );
      // The shared reconnect options are accepted by every backend, a fixed interval included.
      const fixed = ctx.target.backend.createConnection({
        ...base,
        reconnectMillis: 200,
        reconnectMaxMillis: 200,
      } as never);
      await fixed.close();
    },
  ),

  defineCase(
    'validation',
    'send-on-receiver',
    'sendMsg on a receiver rejects with SEND_ON_RECEIVER and never throws',
    async (ctx) => {
      const conn = await ctx.connection();
      const { queue } = await ctx.receiver(conn, { name: ctx.name() });
      await checkRejectsCode(() => queue.sendMsg(Buffer.from('x')), 'SEND_ON_RECEIVER', 'send on receiver');
    },
  ),

  defineCase(
    'validation',
    'handler-on-sender',
    'setMsgHandler on a sender throws HANDLER_ON_SENDER, as sendMsg on a receiver rejects',
    async (ctx) => {
      const conn = await ctx.connection();
      const queue = ctx.newQueue(conn, { name: ctx.name(), isRecv: false });
      checkThrowsCode(() => queue.setMsgHandler(async () => {}), 'HANDLER_ON_SENDER', 'handler on a sender');
    },
  ),

  defineCase(
    'validation',
    'prefetch-on-sender',
    'a sender given prefetch is refused with INVALID_OPTIONS naming the field',
    async (ctx) => {
      const conn = await ctx.connection();
      const error = checkThrowsCode(
        () => ctx.newQueue(conn, { name: ctx.name(), isRecv: false, prefetch: 5 }),
        'INVALID_OPTIONS',
        'prefetch on a sender',
      );
      check(error.message.includes('prefetch'), `the error names prefetch: ${error.message}`);
    },
  ),

  defineCase(
    'validation',
    'receiver-default-prefetch',
    'a receiver given no prefetch is accepted, as on every backend, and receives',
    async (ctx) => {
      const conn = await ctx.connection();
      const name = ctx.name();
      const { collector } = await ctx.receiver(conn, { name, reliable: true, prefetch: null });
      const send = await ctx.sender(conn, { name, reliable: true });
      await sendAll(send, texts('d', 7));
      await collector.untilCount(7, ctx.waitMillis);
    },
  ),

  defineCase(
    'validation',
    'receiver-without-handler',
    'connect() on a receiver with no handler throws NO_HANDLER and leaves it closed',
    async (ctx) => {
      const conn = await ctx.connection();
      const queue = ctx.newQueue(conn, { name: ctx.name(), isRecv: true });
      checkThrowsCode(() => queue.connect(), 'NO_HANDLER', 'connect without handler');
      checkEqual(queue.status, 'closed', 'status');
    },
  ),

  defineCase(
    'validation',
    'bad-arguments',
    'a payload that is not bytes rejects with INVALID_ARGUMENT; a handler that is not a function throws it',
    async (ctx) => {
      const conn = await ctx.connection();
      const send = await ctx.sender(conn, { name: ctx.name() });
      for (const payload of ['text', 42, null, undefined, [1, 2], { length: 1 }]) {
        await checkRejectsCode(
          () => send.sendMsg(payload as never),
          'INVALID_ARGUMENT',
          `payload ${JSON.stringify(payload)}`,
        );
      }
      const recv = ctx.newQueue(conn, { name: ctx.name(), isRecv: true });
      checkThrowsCode(() => recv.setMsgHandler('nope' as never), 'INVALID_ARGUMENT', 'string handler');
    },
  ),

  defineCase(
    'validation',
    'send-not-connected',
    'a send on a queue that is not connected (never opened, or closed) rejects with NOT_CONNECTED',
    async (ctx) => {
      const conn = await ctx.connection();
      const queue = ctx.newQueue(conn, { name: ctx.name(), isRecv: false });
      await checkRejectsCode(() => queue.sendMsg(Buffer.from('x')), 'NOT_CONNECTED', 'send before connect');
      queue.connect();
      await ctx.waitStatus(queue, 'connected');
      await queue.close();
      await checkRejectsCode(() => queue.sendMsg(Buffer.from('x')), 'NOT_CONNECTED', 'send after close');
    },
  ),

  defineCase(
    'validation',
    'unsupported-broadcast',
    'a backend without broadcast refuses a broadcast sender and receiver with UNSUPPORTED, and its unicast queues still work',
    async (ctx) => {
      const conn = await ctx.connection();
      const name = ctx.name();
      checkRefused(ctx, conn, { name, isRecv: false, broadcast: true }, 'broadcast sender');
      checkRefused(ctx, conn, { name, isRecv: true, broadcast: true }, 'broadcast receiver');
      const { collector } = await ctx.receiver(conn, { name });
      const send = await ctx.sender(conn, { name });
      await sendAll(send, texts('after', 3));
      await collector.untilCount(3, ctx.waitMillis);
    },
    { requires: ['no:broadcast'] },
  ),

  defineCase(
    'validation',
    'unsupported-same-connection-receivers',
    'a backend whose receivers cannot share a connection refuses a second receiver of one name there with UNSUPPORTED, and the first still works',
    async (ctx) => {
      const conn = await ctx.connection();
      const name = ctx.name();
      const { collector } = await ctx.receiver(conn, { name, reliable: true });
      checkRefused(ctx, conn, { name, isRecv: true, reliable: true }, 'second receiver');
      const send = await ctx.sender(await ctx.connection(), { name, reliable: true });
      const items = texts('first', 7);
      await sendAll(send, items);
      await collector.untilCount(items.length, ctx.waitMillis);
      checkEqual(collector.texts.length, items.length, 'messages the first receiver got');
    },
    { requires: ['no:sameConnectionReceivers'] },
  ),
  defineCase(
    'validation',
    'unsupported-dead-letter',
    'a backend without dead-letter queues refuses a receiver given deadLetter with UNSUPPORTED',
    async (ctx) => {
      const conn = await ctx.connection();
      const options = {
        name: ctx.name(),
        isRecv: true,
        reliable: true,
        maxDeliveries: 3,
        deadLetter: ctx.name('dead'),
      };
      checkRefused(ctx, conn, options, 'a receiver with deadLetter');
    },
    { requires: ['no:deadLetter'] },
  ),

  defineCase(
    'validation',
    'unsupported-max-deliveries',
    'a backend that cannot count deliveries refuses a receiver given maxDeliveries with UNSUPPORTED, rather than never applying it',
    async (ctx) => {
      const conn = await ctx.connection();
      checkRefused(
        ctx,
        conn,
        { name: ctx.name(), isRecv: true, reliable: true, maxDeliveries: 3 },
        'a receiver with maxDeliveries',
      );
    },
    { requires: ['no:countsDeliveries'] },
  ),
];
