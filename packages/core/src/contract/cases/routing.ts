import type { Connection } from '../../api/connection.js';
import type { Queue } from '../../api/queue.js';
import { check, checkCode, checkEqual, checkRejectsCode, checkSameList, checkThrowsCode } from '../assert.js';
import type { CaseQueueOptions, Collector, ContractContext } from '../context.js';
import type { ContractCase } from '../types.js';
import { defineCase } from './define.js';

// Topic routing (issue 27): one pattern semantics on every backend with capability `topicRouting`, as AMQP topic
// exchanges and MQTT topic filters agree on it.

/** Sends each `[topic, text]` in order on a topic sender, awaiting each. */
export async function sendTopics(
  queue: Queue,
  items: ReadonlyArray<readonly [string, string]>,
): Promise<void> {
  for (const [topic, text] of items) await queue.sendMsg(Buffer.from(text, 'latin1'), { topic });
}

/** The `text@topic` of each message received, in arrival order. */
function seen(collector: Collector): string[] {
  return collector.received.map((r) => `${r.text}@${r.message.topic}`);
}

type TopicReceiverOptions = Omit<CaseQueueOptions, 'isRecv' | 'name' | 'routing'>;

/** A topic receiver of `space` on a new connection, reliable unless said otherwise. */
async function topicReceiver(
  ctx: ContractContext,
  space: string,
  options: TopicReceiverOptions,
): Promise<{ queue: Queue; collector: Collector }> {
  return ctx.receiver(await ctx.connection(), { reliable: true, ...options, name: space, routing: 'topic' });
}

/** A reliable topic sender of `space` on a new connection. */
async function topicSender(ctx: ContractContext, space: string): Promise<Queue> {
  return ctx.sender(await ctx.connection(), { name: space, routing: 'topic', reliable: true });
}

/**
 * One receiver with `topics` gets exactly the `expected` of `items` (each `[topic, text]`), in order, each with
 * its topic; the last item must be expected (the case waits for it, then for stragglers).
 */
async function checkRouted(
  ctx: ContractContext,
  topics: readonly string[],
  items: ReadonlyArray<readonly [string, string]>,
  expected: readonly string[],
): Promise<void> {
  const space = ctx.name('space');
  const { collector } = await topicReceiver(ctx, space, { topics, group: 'g' });
  const send = await topicSender(ctx, space);
  await sendTopics(send, items);
  const last = items[items.length - 1] as readonly [string, string];
  await collector.untilText(last[1], ctx.waitMillis);
  await ctx.quiet();
  const wanted = items
    .filter(([, text]) => expected.includes(text))
    .map(([topic, text]) => `${text}@${topic}`);
  checkSameList(seen(collector), wanted, `receiver of ${JSON.stringify(topics)}`);
}

export const routingCases: ContractCase[] = [
  defineCase(
    'routing',
    'star-is-one-word',
    "'*' matches exactly one word: a receiver of '*.created' gets eu.created and us.created with their topic, not created, eu.x.created or eu.deleted",
    async (ctx) => {
      await checkRouted(
        ctx,
        ['*.created'],
        [
          ['eu.created', 'a'],
          ['created', 'b'],
          ['eu.x.created', 'c'],
          ['eu.deleted', 'd'],
          ['us.created', 'end'],
        ],
        ['a', 'end'],
      );
    },
    { requires: ['topicRouting'] },
  ),

  defineCase(
    'routing',
    'hash-is-the-rest',
    "a last '#' matches the remaining words: a receiver of 'eu.#' gets eu.created and eu.x.created, not us.created or europe",
    async (ctx) => {
      await checkRouted(
        ctx,
        ['eu.#'],
        [
          ['eu.created', 'a'],
          ['us.created', 'b'],
          ['eu.x.created', 'c'],
          ['europe', 'd'],
          ['eu.y', 'end'],
        ],
        ['a', 'c', 'end'],
      );
    },
    { requires: ['topicRouting'] },
  ),

  defineCase(
    'routing',
    'hash-empty-remainder',
    "a last '#' also matches no word at all: a receiver of 'eu.#' gets a message sent with topic eu",
    async (ctx) => {
      await checkRouted(
        ctx,
        ['eu.#'],
        [
          ['eu', 'a'],
          ['eu.created', 'end'],
        ],
        ['a', 'end'],
      );
    },
    { requires: ['topicRouting'] },
  ),

  defineCase(
    'routing',
    'no-match',
    'a message that matches none of the patterns is not delivered, and its send still resolves',
    async (ctx) => {
      await checkRouted(
        ctx,
        ['eu.created', 'us.*'],
        [
          ['eu.deleted', 'a'],
          ['asia.created', 'b'],
          ['us', 'c'],
          ['us.created', 'end'],
        ],
        ['end'],
      );
    },
    { requires: ['topicRouting'] },
  ),

  defineCase(
    'routing',
    'two-patterns-once',
    "a message matching two patterns of one receiver ('*.created' and 'eu.*') arrives once",
    async (ctx) => {
      await checkRouted(
        ctx,
        ['*.created', 'eu.*', 'eu.#'],
        [
          ['eu.created', 'a'],
          ['us.created', 'b'],
          ['eu.deleted', 'end'],
        ],
        ['a', 'b', 'end'],
      );
    },
    { requires: ['topicRouting'] },
  ),

  defineCase(
    'routing',
    'group-shares',
    'two receivers of one group share its messages: each message reaches exactly one of them, and both get some',
    async (ctx) => {
      const space = ctx.name('space');
      const one = await topicReceiver(ctx, space, { topics: ['job.*'], group: 'workers', prefetch: 1 });
      const two = await topicReceiver(ctx, space, { topics: ['job.*'], group: 'workers', prefetch: 1 });
      const send = await topicSender(ctx, space);
      const items = Array.from({ length: 40 }, (_, i) => [`job.n${i}`, `j${i}`] as const);
      await sendTopics(send, items);
      const total = (): number => one.collector.received.length + two.collector.received.length;
      await ctx.poll(
        () => total() >= items.length,
        () => `40 messages between the two, got ${total()}`,
      );
      await ctx.quiet();
      const all = [...one.collector.texts, ...two.collector.texts].sort();
      checkSameList(all, items.map(([, text]) => text).sort(), 'messages of the group, each once');
      check(
        one.collector.received.length > 0 && two.collector.received.length > 0,
        `both receivers of the group get some (got ${one.collector.received.length} and ${two.collector.received.length})`,
      );
    },
    { requires: ['topicRouting'] },
  ),

  defineCase(
    'routing',
    'each-group-its-copy',
    'each group gets its own copy of every matching message',
    async (ctx) => {
      const space = ctx.name('space');
      const billing = await topicReceiver(ctx, space, { topics: ['*.created'], group: 'billing' });
      const audit = await topicReceiver(ctx, space, { topics: ['#'], group: 'audit' });
      const send = await topicSender(ctx, space);
      const items = Array.from({ length: 10 }, (_, i) => [`r${i % 3}.created`, `o${i}`] as const);
      await sendTopics(send, items);
      await billing.collector.untilCount(items.length, ctx.waitMillis);
      await audit.collector.untilCount(items.length, ctx.waitMillis);
      await ctx.quiet();
      const texts = items.map(([, text]) => text);
      checkSameList(billing.collector.texts, texts, 'group billing');
      checkSameList(audit.collector.texts, texts, 'group audit');
    },
    { requires: ['topicRouting'] },
  ),

  defineCase(
    'routing',
    'broadcast',
    'broadcast topic receivers each get every message matching their patterns, beside a group that gets its own copy',
    async (ctx) => {
      const space = ctx.name('space');
      const first = await topicReceiver(ctx, space, { topics: ['eu.*'], broadcast: true });
      const second = await topicReceiver(ctx, space, { topics: ['eu.*', '*.created'], broadcast: true });
      const group = await topicReceiver(ctx, space, { topics: ['eu.*'], group: 'g' });
      const send = await topicSender(ctx, space);
      await sendTopics(send, [
        ['eu.created', 'a'],
        ['us.created', 'b'],
        ['eu.deleted', 'c'],
        ['eu.end', 'end'],
      ]);
      for (const { collector } of [first, second, group]) await collector.untilText('end', ctx.waitMillis);
      await ctx.quiet();
      checkSameList(first.collector.texts, ['a', 'c', 'end'], 'first broadcast receiver');
      checkSameList(second.collector.texts, ['a', 'b', 'c', 'end'], 'second broadcast receiver');
      checkSameList(group.collector.texts, ['a', 'c', 'end'], 'group receiver');
    },
    { requires: ['topicRouting', 'broadcast'] },
  ),

  defineCase(
    'routing',
    'link-drop',
    'reliable topic routing through dropped links: once back, a group receiver and a broadcast receiver each get every message sent after their return, once (and the group, where unicast messages are retained, those sent meanwhile)',
    async (ctx) => {
      const drop = ctx.target.faults?.dropConnection;
      check(drop, 'dropConnection fault hook');
      const space = ctx.name('space');
      // One connection each: MQTT cannot tell two receivers of one name on a connection apart.
      const connections = [await ctx.connection(), await ctx.connection()];
      const base = { name: space, routing: 'topic', reliable: true, topics: ['t.*'] } as const;
      const receivers = [
        await ctx.receiver(connections[0] as Connection, { ...base, group: 'g' }),
        await ctx.receiver(connections[1] as Connection, { ...base, broadcast: true }),
      ];
      const [group, fan] = receivers as [(typeof receivers)[0], (typeof receivers)[0]];
      for (const { collector } of receivers) collector.allowSettleFailures();
      const send = await topicSender(ctx, space);
      await sendTopics(send, [['t.a', 'before']]);
      for (const { collector } of receivers) await collector.untilText('before', ctx.waitMillis);
      const recorded = receivers.map(({ queue }) => ({ queue, statuses: ctx.recordStatuses(queue) }));
      for (const connection of connections) await drop(connection);
      await sendTopics(send, [['t.b', 'meanwhile']]);
      for (const { queue, statuses } of recorded) {
        await ctx.poll(
          () => statuses.includes('disconnected') && queue.status === 'connected',
          () => `the receiver back after the drop (statuses ${statuses.join(', ')})`,
        );
      }
      const after = Array.from({ length: 5 }, (_, i) => [`t.c${i}`, `after-${i}`] as const);
      await sendTopics(send, after);
      for (const [, text] of after) {
        await group.collector.untilText(text, ctx.waitMillis);
        await fan.collector.untilText(text, ctx.waitMillis);
      }
      if (ctx.target.backend.capabilities.retainUnicast) {
        await group.collector.untilText('meanwhile', ctx.waitMillis);
      }
      await ctx.quiet();
      for (const [, text] of after) {
        checkEqual(
          fan.collector.texts.filter((t) => t === text).length,
          1,
          `broadcast receiver: copies of ${text}`,
        );
      }
    },
    { requires: ['topicRouting', 'broadcast', 'fault:dropConnection'], timeoutMillis: 60_000 },
  ),

  defineCase(
    'routing',
    'group-backlog',
    'a receiver starting on its group gets what was sent while the group had no receiver, with its topic',
    async (ctx) => {
      const space = ctx.name('space');
      const first = await topicReceiver(ctx, space, { topics: ['b.*'], group: 'g' });
      await first.queue.close();
      const send = await topicSender(ctx, space);
      const items = Array.from({ length: 5 }, (_, i) => [`b.n${i}`, `kept-${i}`] as const);
      await sendTopics(send, items);
      await sendTopics(send, [['other.n', 'unmatched']]);
      const { collector } = ctx.startReceiver(await ctx.connection(), {
        name: space,
        routing: 'topic',
        reliable: true,
        topics: ['b.*'],
        group: 'g',
      });
      await collector.untilCount(items.length, ctx.waitMillis);
      await ctx.quiet();
      checkSameList(
        seen(collector),
        items.map(([topic, text]) => `${text}@${topic}`),
        'the backlog of the group',
      );
    },
    { requires: ['topicRouting', 'retainUnicast'] },
  ),

  defineCase(
    'routing',
    'retry-keeps-topic',
    'a topic message whose handler fails is handed out again with its topic',
    async (ctx) => {
      const space = ctx.name('space');
      const failedOnce = new Set<string>();
      const { collector } = await ctx.receiver(
        await ctx.connection(),
        { name: space, routing: 'topic', reliable: true, topics: ['r.*'], group: 'g', retryDelayMillis: 0 },
        async ({ text, message }) => {
          if (!failedOnce.has(text)) {
            failedOnce.add(text);
            throw new Error(`first delivery of ${text} fails`);
          }
          await message.ack();
        },
      );
      const send = await topicSender(ctx, space);
      await sendTopics(send, [
        ['r.one', 'a'],
        ['r.two', 'b'],
      ]);
      await collector.untilCount(4, ctx.waitMillis);
      await ctx.quiet();
      checkSameList(
        [...seen(collector)].sort(),
        ['a@r.one', 'a@r.one', 'b@r.two', 'b@r.two'],
        'each message twice (failed, then retried), with its topic',
      );
    },
    { requires: ['topicRouting'] },
  ),

  defineCase(
    'routing',
    'refusals',
    'bad patterns and a missing group are INVALID_OPTIONS naming the field; topics on a sender too; a topic on a named queue, or none on a topic sender, is INVALID_ARGUMENT',
    async (ctx) => {
      const conn = ctx.newConnection();
      const make = (options: Record<string, unknown>): void => {
        ctx.target.backend.createQueue(
          { name: ctx.name('space'), isRecv: true, routing: 'topic', ...options } as never,
          conn,
        );
      };
      for (const pattern of ['a.#.b', '#.a', 'a..b', '', 'a*', 'a/b', 'a+']) {
        const error = checkThrowsCode(
          () => make({ topics: [pattern], group: 'g' }),
          'INVALID_OPTIONS',
          `pattern ${JSON.stringify(pattern)}`,
        );
        check(
          error.message.includes('topics[0]'),
          `the refusal of ${JSON.stringify(pattern)} names topics[0]: ${error.message}`,
        );
      }
      for (const [options, field] of [
        [{ topics: [] as string[], group: 'g' }, 'topics'],
        [{ group: 'g' }, 'topics'],
        [{ topics: ['a'] }, 'group'],
        [{ topics: ['a'], isRecv: false }, 'topics'],
        [{ topics: ['a'], routing: 'queue', group: 'g' }, 'topics'],
      ] as const) {
        const error = checkThrowsCode(() => make(options), 'INVALID_OPTIONS', JSON.stringify(options));
        check(
          error.message.includes(field),
          `the refusal of ${JSON.stringify(options)} names ${field}: ${error.message}`,
        );
      }
      const named = await ctx.sender(await ctx.connection(), { name: ctx.name() });
      const error = await checkRejectsCode(
        () => named.sendMsg(Buffer.from('x'), { topic: 'eu.created' }),
        'INVALID_ARGUMENT',
        'a topic on a named queue',
      );
      check(error.message.includes('topic'), `the refusal names topic: ${error.message}`);
      const topicSend = await topicSender(ctx, ctx.name('space'));
      await checkRejectsCode(
        () => topicSend.sendMsg(Buffer.from('x')),
        'INVALID_ARGUMENT',
        'a topic sender without topic',
      );
      for (const topic of ['a.*', 'a.#', 'a..b', '']) {
        await checkRejectsCode(
          () => topicSend.sendMsg(Buffer.from('x'), { topic }),
          'INVALID_ARGUMENT',
          `the topic ${JSON.stringify(topic)}`,
        );
      }
    },
    { requires: ['topicRouting'] },
  ),

  defineCase(
    'routing',
    'unsupported',
    "a backend without topic routing refuses routing: 'topic' with UNSUPPORTED",
    async (ctx) => {
      const conn = ctx.newConnection();
      for (const isRecv of [false, true]) {
        try {
          ctx.target.backend.createQueue(
            {
              name: ctx.name('space'),
              isRecv,
              routing: 'topic',
              ...(isRecv ? { topics: ['a'], group: 'g' } : {}),
            } as never,
            conn,
          );
        } catch (error) {
          checkCode(error, 'UNSUPPORTED', `a topic ${isRecv ? 'receiver' : 'sender'}`);
          continue;
        }
        check(false, `a topic ${isRecv ? 'receiver' : 'sender'} was made on a backend without topicRouting`);
      }
    },
    { requires: ['no:topicRouting'] },
  ),
];
