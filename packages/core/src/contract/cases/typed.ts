import type { Codec } from '../../api/codec.js';
import type { MqError } from '../../api/errors.js';
import type { Message } from '../../api/message.js';
import { MQ_HEADERS } from '../../api/mq-headers.js';
import type { Queue } from '../../api/queue.js';
import type { StandardSchemaV1 } from '../../api/standard-schema.js';
import {
  check,
  checkEqual,
  checkRejectsCode,
  checkSameBytes,
  checkSameList,
  checkThrowsCode,
} from '../assert.js';
import type { Collector, ContractContext, Received } from '../context.js';
import type { ContractCase } from '../types.js';
import { defineCase, texts } from './define.js';

/** The body type of the schema cases. */
interface Order {
  id: number;
  item: string;
}

/** A Standard Schema v1 validator written by hand (no validation library), as zod or valibot would give. */
const ORDER_SCHEMA: StandardSchemaV1<unknown, Order> = {
  '~standard': {
    version: 1,
    vendor: 'mq-contract',
    validate: (value) => {
      const order = value as Partial<Order> | null;
      if (typeof order !== 'object' || order === null) return { issues: [{ message: 'expected an object' }] };
      const issues: StandardSchemaV1.Issue[] = [];
      if (typeof order.id !== 'number') issues.push({ message: 'expected a number', path: ['id'] });
      if (typeof order.item !== 'string') issues.push({ message: 'expected a string', path: ['item'] });
      return issues.length > 0
        ? { issues }
        : { value: { id: order.id as number, item: order.item as string } };
    },
  },
};

/** A codec of its own: a list of words, comma-separated. */
const WORDS_CODEC: Codec<string[]> = {
  contentType: 'application/x-mq-words',
  encode: (words) => Buffer.from(words.join(','), 'utf8'),
  decode: (payload) => payload.toString('utf8').split(','),
};

/** The queue with its body type: the contract's queues are typed as `Buffer` queues. */
function typed<T>(queue: Queue): Queue<T> {
  return queue as unknown as Queue<T>;
}

/** The body of a received message. */
function bodyOf(received: Received | undefined): unknown {
  check(received, 'a message received');
  return (received.message as Message<unknown>).body;
}

/** Waits until `count` errors with `code` were emitted on the collector's queue. */
function errorsOf(errors: readonly MqError[], code: string): MqError[] {
  return errors.filter((error) => error.code === code);
}

/** The text key of a payload `key-n`. */
const keyOfText = (message: Message<unknown>): string | undefined => message.payload.toString().split('-')[0];

/** A promise and what resolves it. */
function latch(): { promise: Promise<void>; open(): void } {
  let open: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** A few milliseconds of handler work, so that handlers that may overlap do. */
function work(millis: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, millis));
}

/** Round trip of one codec on a reliable queue; returns what arrived. */
async function roundTrip(
  ctx: ContractContext,
  codec: 'bytes' | 'json' | 'text' | Codec<string[]>,
  body: unknown,
): Promise<Received> {
  const conn = await ctx.connection();
  const name = ctx.name();
  const { collector } = await ctx.receiver(conn, { name, reliable: true, codec });
  const send = await ctx.sender(conn, { name, reliable: true, codec });
  await typed<unknown>(send).sendMsg(body);
  await collector.untilCount(1, ctx.waitMillis);
  checkEqual(collector.errors.length, 0, 'errors on the receiver');
  return collector.received[0] as Received;
}

/** Codecs and schema validation: bodies in and out, content types, invalid messages never retried. */
export const typedCases: readonly ContractCase[] = [
  defineCase(
    'typed',
    'bytes-default',
    "a queue without codec ('bytes') hands out the payload as body, byte for byte, with no content type set",
    async (ctx) => {
      const payload = Uint8Array.from([0, 255, 1, 254, 0x7b]);
      const got = await roundTrip(ctx, 'bytes', payload);
      check(Buffer.isBuffer(bodyOf(got)), 'body is a Buffer');
      checkSameBytes(bodyOf(got) as Buffer, payload, 'body');
      checkSameBytes(got.payload, payload, 'payload');
      checkEqual(got.message.contentType, undefined, 'content type of a bytes message');
    },
  ),

  defineCase(
    'typed',
    'json-round-trip',
    "the 'json' codec: an object sent arrives as an equal object in body, its JSON bytes in payload, content type application/json where metadata travels",
    async (ctx) => {
      const body = { id: 7, item: 'crème brûlée ✓', tags: ['a', 'b'], nested: { none: null, ok: true } };
      const got = await roundTrip(ctx, 'json', body);
      checkEqual(JSON.stringify(bodyOf(got)), JSON.stringify(body), 'decoded body');
      checkSameBytes(got.payload, Buffer.from(JSON.stringify(body), 'utf8'), 'payload (JSON as UTF-8)');
      if (ctx.target.backend.capabilities.metadata === true) {
        checkEqual(got.message.contentType, 'application/json', 'content type');
      }
    },
  ),

  defineCase(
    'typed',
    'text-round-trip',
    "the 'text' codec: a string with non-ASCII characters arrives equal in body, UTF-8 in payload",
    async (ctx) => {
      const body = 'héllo wörld ✓ 🙂, 日本';
      const got = await roundTrip(ctx, 'text', body);
      checkEqual(bodyOf(got), body, 'decoded body');
      checkSameBytes(got.payload, Buffer.from(body, 'utf8'), 'payload');
      if (ctx.target.backend.capabilities.metadata === true) {
        check(
          got.message.contentType?.startsWith('text/plain'),
          `content type text/plain, got ${got.message.contentType}`,
        );
      }
    },
  ),

  defineCase(
    'typed',
    'custom-codec',
    'a codec object encodes on send and decodes on receive, its content type on the message where metadata travels',
    async (ctx) => {
      const got = await roundTrip(ctx, WORDS_CODEC, ['one', 'two', 'three']);
      checkSameList(bodyOf(got) as string[], ['one', 'two', 'three'], 'decoded body');
      checkSameBytes(got.payload, Buffer.from('one,two,three'), 'payload');
      if (ctx.target.backend.capabilities.metadata === true) {
        checkEqual(got.message.contentType, WORDS_CODEC.contentType, 'content type');
      }
    },
  ),

  defineCase(
    'typed',
    'content-type-decides',
    "the content type decides between codecs: a 'json' receiver gets text/plain messages as strings, application/json ones as values, and one without a content type by its own codec",
    async (ctx) => {
      const conn = await ctx.connection();
      const name = ctx.name();
      const { collector } = await ctx.receiver(conn, { name, reliable: true, codec: 'json' });
      const asText = typed<string>(await ctx.sender(conn, { name, reliable: true, codec: 'text' }));
      const plain = await ctx.sender(conn, { name, reliable: true });
      await asText.sendMsg('plain words, not JSON {');
      await plain.sendMsg(Buffer.from('[1,2]'), { contentType: 'application/json; charset=utf-8' });
      await plain.sendMsg(Buffer.from('{"by":"queue codec"}'));
      await collector.untilCount(3, ctx.waitMillis);
      checkEqual(collector.errors.length, 0, 'errors (nothing failed to decode)');
      const bodies = collector.received.map((r) => JSON.stringify(bodyOf(r)));
      checkSameList(
        [...bodies].sort(),
        ['"plain words, not JSON {"', '[1,2]', '{"by":"queue codec"}'].sort(),
        'bodies',
      );
    },
    { requires: ['metadata'] },
  ),

  defineCase(
    'typed',
    'schema-refuses-send',
    'a sender with a schema rejects an invalid body with INVALID_ARGUMENT carrying the issues, and sends nothing',
    async (ctx) => {
      const conn = await ctx.connection();
      const name = ctx.name();
      const { collector } = await ctx.receiver(conn, { name, reliable: true, codec: 'json' });
      const send = typed<Order>(
        await ctx.sender(conn, { name, reliable: true, codec: 'json', schema: ORDER_SCHEMA }),
      );
      const refused = await checkRejectsCode(
        () => send.sendMsg({ id: 'seven', item: 3 } as unknown as Order),
        'INVALID_ARGUMENT',
        'an invalid body',
      );
      const issues = (refused as MqError).issues ?? [];
      checkEqual(issues.length, 2, 'issues on the error');
      check(
        refused.message.includes('id: expected a number'),
        `the message names the issue: ${refused.message}`,
      );
      await send.sendMsg({ id: 8, item: 'valid' });
      await collector.untilCount(1, ctx.waitMillis);
      await ctx.quiet();
      checkEqual(collector.received.length, 1, 'messages received (only the valid one)');
      checkEqual(JSON.stringify(bodyOf(collector.received[0])), '{"id":8,"item":"valid"}', 'body');
    },
  ),

  defineCase(
    'typed',
    'invalid-dead-lettered-once',
    'messages from a plain sender that fail to decode or validate never reach the handler: each goes to deadLetter once, at once, with the reason in its headers, and INVALID_PAYLOAD names it',
    async (ctx) => {
      const conn = await ctx.connection();
      const name = ctx.name();
      const dead = ctx.name('dead');
      const { collector: dlq } = await ctx.receiver(conn, { name: dead, reliable: true });
      const { collector } = await ctx.receiver(conn, {
        name,
        reliable: true,
        codec: 'json',
        schema: ORDER_SCHEMA,
        deadLetter: dead,
        retryDelayMillis: 0,
      });
      const plain = await ctx.sender(conn, { name, reliable: true });
      await plain.sendMsg(Buffer.from('not json {'), { messageId: 'bad-json' });
      await plain.sendMsg(Buffer.from('{"id":"x"}'), { messageId: 'bad-schema' });
      await plain.sendMsg(Buffer.from('{"id":1,"item":"good"}'));
      await dlq.untilCount(2, ctx.waitMillis);
      await collector.untilCount(1, ctx.waitMillis);
      await ctx.poll(
        () => errorsOf(collector.errors, 'INVALID_PAYLOAD').length >= 2,
        'two INVALID_PAYLOAD events',
      );
      await ctx.quiet();
      checkEqual(dlq.received.length, 2, 'dead letters (each invalid message once)');
      checkEqual(collector.received.length, 1, 'messages the handler got (the valid one)');
      checkEqual(JSON.stringify(bodyOf(collector.received[0])), '{"id":1,"item":"good"}', 'valid body');
      const invalid = errorsOf(collector.errors, 'INVALID_PAYLOAD');
      checkEqual(invalid.length, 2, 'INVALID_PAYLOAD events');
      checkEqual(errorsOf(collector.errors, 'HANDLER_FAILED').length, 0, 'HANDLER_FAILED events');
      check(
        invalid.some((e) => e.message.includes('bad-json')),
        'INVALID_PAYLOAD names the message id',
      );
      check(
        invalid.some((e) => e.message.includes('id: expected a number')),
        'INVALID_PAYLOAD names the issue',
      );
      checkSameList(dlq.texts.sort(), ['not json {', '{"id":"x"}'].sort(), 'dead letters, byte for byte');
      for (const letter of dlq.received) {
        checkEqual(letter.message.headers[MQ_HEADERS.deadLetterFrom], name, 'mq-dead-letter-from');
        check(
          letter.message.headers[MQ_HEADERS.deadLetterError]?.startsWith('invalid payload'),
          `mq-dead-letter-error says why, got ${letter.message.headers[MQ_HEADERS.deadLetterError]}`,
        );
      }
    },
    { requires: ['deadLetter'] },
  ),

  defineCase(
    'typed',
    'invalid-dropped',
    'without deadLetter, a message that fails to decode is acked and dropped once with INVALID_PAYLOAD, never retried, and the messages behind it are handled',
    async (ctx) => {
      const conn = await ctx.connection();
      const name = ctx.name();
      const { collector } = await ctx.receiver(conn, {
        name,
        reliable: true,
        codec: 'json',
        retryDelayMillis: 0,
      });
      const plain = await ctx.sender(conn, { name, reliable: true });
      await plain.sendMsg(Buffer.from('garbage {'));
      await plain.sendMsg(Buffer.from('"after"'));
      await collector.untilCount(1, ctx.waitMillis);
      await ctx.poll(
        () => errorsOf(collector.errors, 'INVALID_PAYLOAD').length >= 1,
        'an INVALID_PAYLOAD event',
      );
      await ctx.quiet();
      checkEqual(bodyOf(collector.received[0]), 'after', 'the message behind the invalid one');
      checkEqual(collector.received.length, 1, 'messages the handler got');
      checkEqual(
        errorsOf(collector.errors, 'INVALID_PAYLOAD').length,
        1,
        'INVALID_PAYLOAD events (no retry)',
      );
      checkEqual(collector.errors.length, 1, 'errors in all');
    },
  ),

  defineCase(
    'concurrency',
    'one-at-a-time',
    'concurrency 1 with prefetch 10 runs the handlers strictly one at a time, in arrival order',
    async (ctx) => {
      const conn = await ctx.connection();
      const name = ctx.name();
      let running = 0;
      let most = 0;
      const started: string[] = [];
      const { collector } = await ctx.receiver(
        conn,
        { name, reliable: true, prefetch: 10, concurrency: 1 },
        async ({ text, message }) => {
          running += 1;
          most = Math.max(most, running);
          started.push(text);
          await work(5);
          running -= 1;
          await message.ack();
        },
      );
      const send = await ctx.sender(conn, { name, reliable: true });
      const items = texts('c', 10);
      await Promise.all(items.map((item) => send.sendMsg(Buffer.from(item))));
      await collector.untilCount(10, ctx.waitMillis);
      await ctx.poll(() => collector.settledCount() === 10, 'ten acks');
      checkEqual(most, 1, 'handlers running at once, at most');
      checkSameList(started, collector.texts, 'handlers started in arrival order');
    },
  ),

  defineCase(
    'concurrency',
    'set-concurrency',
    'setConcurrency() changes the limit at run time: from one handler at once to three',
    async (ctx) => {
      const conn = await ctx.connection();
      const name = ctx.name();
      const gate = latch();
      let running = 0;
      let most = 0;
      const { queue, collector } = await ctx.receiver(
        conn,
        { name, reliable: true, prefetch: 10, concurrency: 1 },
        async ({ message }) => {
          running += 1;
          most = Math.max(most, running);
          await gate.promise;
          running -= 1;
          await message.ack();
        },
      );
      checkThrowsCode(() => queue.setConcurrency(0), 'INVALID_ARGUMENT', 'setConcurrency(0)');
      const send = await ctx.sender(conn, { name, reliable: true });
      try {
        await Promise.all(texts('s', 6).map((item) => send.sendMsg(Buffer.from(item))));
        await collector.untilCount(1, ctx.waitMillis);
        await ctx.quiet();
        checkEqual(running, 1, 'handlers running with concurrency 1');
        queue.setConcurrency(3);
        await ctx.poll(
          () => running === 3,
          () => `three handlers running (running: ${running})`,
        );
        await ctx.quiet();
        checkEqual(most, 3, 'handlers running at once after setConcurrency(3)');
      } finally {
        gate.open();
      }
      await collector.untilCount(6, ctx.waitMillis);
    },
  ),

  defineCase(
    'concurrency',
    'ordering-key-order',
    'orderingKey: three receivers of one name on one connection handle the messages of each key one at a time and in send order',
    async (ctx) => {
      const conn = await ctx.connection();
      const name = ctx.name();
      const runningByKey = new Map<string, number>();
      let overlaps = 0;
      const startedByKey = new Map<string, string[]>();
      const handle = async ({ text, message }: Received): Promise<void> => {
        const key = text.split('-')[0] as string;
        const now = (runningByKey.get(key) ?? 0) + 1;
        runningByKey.set(key, now);
        if (now > 1) overlaps += 1;
        startedByKey.set(key, [...(startedByKey.get(key) ?? []), text]);
        await work(Number(text.split('-')[1]) % 3 === 0 ? 6 : 1);
        runningByKey.set(key, (runningByKey.get(key) ?? 1) - 1);
        await message.ack();
      };
      const receivers: Array<{ collector: Collector }> = [];
      for (let i = 0; i < 3; i += 1) {
        receivers.push(await ctx.receiver(conn, { name, reliable: true, orderingKey: keyOfText }, handle));
      }
      const send = await ctx.sender(conn, { name, reliable: true });
      const keys = ['a', 'b', 'c'];
      const sent = Array.from({ length: 30 }, (_, i) => `${keys[i % 3]}-${Math.floor(i / 3)}`);
      await Promise.all(sent.map((item) => send.sendMsg(Buffer.from(item))));
      const total = (): number => receivers.reduce((n, r) => n + r.collector.settledCount(), 0);
      await ctx.poll(
        () => total() === 30,
        () => `30 acks (got ${total()})`,
      );
      checkEqual(overlaps, 0, 'handlers of one key that overlapped');
      for (const key of keys) {
        checkSameList(
          startedByKey.get(key) ?? [],
          sent.filter((t) => t.startsWith(`${key}-`)),
          `order of key ${key}`,
        );
      }
    },
    { requires: ['sameConnectionReceivers', 'orderedAcrossReceivers'] },
  ),

  defineCase(
    'concurrency',
    'slow-key-does-not-block',
    'orderingKey: while the handler of one key is held, the messages of other keys are handled, and the next message of the held key waits for it',
    async (ctx) => {
      const conn = await ctx.connection();
      const name = ctx.name();
      const hold = latch();
      const events: string[] = [];
      const { collector } = await ctx.receiver(
        conn,
        { name, reliable: true, orderingKey: keyOfText },
        async ({ text, message }) => {
          events.push(`start ${text}`);
          if (text === 'slow-0') await hold.promise;
          events.push(`end ${text}`);
          await message.ack();
        },
      );
      const send = await ctx.sender(conn, { name, reliable: true });
      const sent = ['slow-0', ...texts('fast', 5), 'slow-1'];
      try {
        await Promise.all(sent.map((item) => send.sendMsg(Buffer.from(item))));
        await ctx.poll(
          () => texts('fast', 5).every((t) => events.includes(`end ${t}`)),
          () => `the fast messages handled while slow-0 is held (events: ${events.join(', ')})`,
        );
        check(!events.includes('start slow-1'), 'slow-1 did not start while slow-0 was held');
      } finally {
        hold.open();
      }
      await ctx.poll(() => collector.settledCount() === sent.length, 'every message acked');
      check(
        events.indexOf('start slow-1') > events.indexOf('end slow-0'),
        `slow-1 started after slow-0 ended: ${events.join(', ')}`,
      );
    },
  ),
];
