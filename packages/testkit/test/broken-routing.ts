import type { Backend, Message, QueueOptions } from '@mq/core';
import { topicMatches } from '@mq/core/spi';
import { memoryBackend } from '@mq/memory';
import { brokenBackend, brokenOptions, replaced, wrapHandler } from './broken-backends.js';

// Broken memory backends for the routing group of the contract (issue 27): each has one defect a backend author
// could plausibly ship, built from the outside (options rewritten, or a receiver bound to everything that filters
// with a wrong matcher).

/**
 * Topic receivers bound to every topic of their space (`#`), handing each message to the handler as many times as
 * `copies` says for the receiver's own patterns (0: acked and dropped unseen): a wrong matcher.
 */
function matchingWith(name: string, copies: (patterns: readonly string[], topic: string) => number): Backend {
  return {
    ...memoryBackend,
    name,
    createQueue: (options, connection) => {
      const topics = options.topics;
      if (options.routing !== 'topic' || !options.isRecv || !Array.isArray(topics))
        return memoryBackend.createQueue(options, connection);
      const queue = memoryBackend.createQueue({ ...options, topics: ['#'] }, connection);
      return wrapHandler(queue, (handler) => async (q, message: Message) => {
        const n = copies(topics, message.topic ?? '');
        if (n === 0) return message.ack();
        for (let i = 0; i < n; i += 1) await handler(q, message);
      });
    },
  };
}

/** Words of a topic. */
const words = (topic: string): string[] => (topic === '' ? [] : topic.split('.'));

/** `*` taken as "one or more words", as a regex `.+` would. */
function starGreedy(pattern: string, topic: string): boolean {
  const source = pattern
    .split('.')
    .map((word) => (word === '*' ? '.+' : word === '#' ? '.*' : word))
    .join('\\.');
  return new RegExp(`^${source}$`).test(topic);
}

/** `#` taken as "one or more words". */
function hashNeedsAWord(pattern: string, topic: string): boolean {
  const p = pattern.split('.');
  const t = words(topic);
  if (p[p.length - 1] === '#') return t.length >= p.length && topicMatches(pattern, topic);
  return topicMatches(pattern, topic);
}

/** `a.#` taken as a string prefix `a`, so that `eu.#` matches `europe`. */
function hashAsPrefix(pattern: string, topic: string): boolean {
  if (pattern.endsWith('.#')) return topic.startsWith(pattern.slice(0, -2));
  return topicMatches(pattern, topic);
}

/** `*` matches one or more words: `*.created` gets `eu.x.created`. */
export const starMatchesMany = matchingWith('star-matches-many', (patterns, topic) =>
  patterns.some((p) => starGreedy(p, topic)) ? 1 : 0,
);

/** `#` needs at least one word: `eu.#` misses `eu`. */
export const hashNeedsOne = matchingWith('hash-needs-a-word', (patterns, topic) =>
  patterns.some((p) => hashNeedsAWord(p, topic)) ? 1 : 0,
);

/** `eu.#` matches by string prefix, so `europe` too. */
export const hashPrefix = matchingWith('hash-as-prefix', (patterns, topic) =>
  patterns.some((p) => hashAsPrefix(p, topic)) ? 1 : 0,
);

/** Patterns ignored: every message of the space is delivered. */
export const ignoresPatterns = matchingWith('ignores-patterns', () => 1);

/** One copy per matching pattern, as one AMQP queue per pattern would give. */
export const copyPerPattern = matchingWith(
  'copy-per-pattern',
  (patterns, topic) => patterns.filter((p) => topicMatches(p, topic)).length,
);

/** Topic receivers with the given options rewritten. */
function topicReceivers(
  name: string,
  map: (
    options: QueueOptions<unknown> & Record<string, unknown>,
  ) => QueueOptions<unknown> & Record<string, unknown>,
): Backend {
  return brokenOptions(name, (options) =>
    options.routing === 'topic' && options.isRecv ? map(options) : options,
  );
}

/** The group is ignored: each receiver gets every match, as if broadcast. */
export const groupsIgnored = topicReceivers('groups-ignored', ({ group: _group, ...options }) => ({
  ...options,
  broadcast: true,
}));

/** Every group is one: groups share one queue instead of each getting its copy. */
export const oneQueueForAllGroups = topicReceivers('one-queue-for-all-groups', (options) =>
  options.broadcast ? options : { ...options, group: 'all' },
);

/** Broadcast receivers put in one group: they share instead of each getting every message. */
export const broadcastShares = topicReceivers('broadcast-shares', (options) =>
  options.broadcast ? { ...options, broadcast: false, group: 'fan' } : options,
);

/**
 * Broadcast topic receivers get nothing once their link came back, as a backend that binds the private queue
 * only on the first open would.
 */
export const bindsOnlyOnce = brokenBackend('binds-only-once', (queue, options) => {
  if (options.routing !== 'topic' || !options.isRecv || !options.broadcast) return queue;
  let connects = 0;
  queue.on('status', (status) => {
    if (status === 'connected') connects += 1;
  });
  return wrapHandler(
    queue,
    (handler) => (q, message) => (connects > 1 ? message.ack() : handler(q, message)),
  );
});

/** A group receiver gets only what was sent after it was made, as if the group's queue went with its receivers. */
export const groupWithoutBacklog = brokenBackend('group-without-backlog', (queue, options) => {
  if (options.routing !== 'topic' || !options.isRecv || options.broadcast) return queue;
  const made = Date.now();
  return wrapHandler(
    queue,
    (handler) => (q, message) => ((message.timestamp ?? made) <= made ? message.ack() : handler(q, message)),
  );
});

/** Lets bad routing through: invalid patterns become `#`, a missing group `g`, a stray topic is dropped. */
export const acceptsBadRouting: Backend = {
  ...memoryBackend,
  name: 'accepts-bad-routing',
  createQueue: (options, connection) => {
    const { topics, group, ...rest } = options;
    if (options.routing !== 'topic' || !options.isRecv) {
      const queue = memoryBackend.createQueue(rest, connection);
      if (options.routing === 'topic') return queue;
      return Object.assign(Object.create(queue) as object, {
        sendMsg: (payload: Uint8Array, send?: { topic?: string }) => {
          const { topic: _topic, ...kept } = send ?? {};
          return queue.sendMsg(payload, kept);
        },
      }) as typeof queue;
    }
    const valid = Array.isArray(topics)
      ? topics.filter(
          (t) =>
            typeof t === 'string' &&
            /^[\w*#-]+(\.[\w*#-]+)*$/.test(t) &&
            !/#./.test(t) &&
            !/\w\*|\*\w/.test(t),
        )
      : [];
    return memoryBackend.createQueue(
      {
        ...rest,
        topics: valid.length > 0 ? valid : ['#'],
        ...(options.broadcast ? {} : { group: group ?? 'g' }),
      },
      connection,
    );
  },
};

/** Declares topicRouting false and still makes topic queues. */
export const topicRoutingUndeclared: Backend = {
  ...memoryBackend,
  name: 'topic-routing-undeclared',
  capabilities: { ...memoryBackend.capabilities, topicRouting: false },
};

/** A retried topic message loses its topic, as a backend that republishes a retry without it would. */
export const retryLosesTopic = brokenBackend('retry-loses-topic', (queue, options) => {
  if (options.routing !== 'topic' || !options.isRecv) return queue;
  return wrapHandler(
    queue,
    (handler) => (q, message) =>
      handler(
        q,
        message.redelivered
          ? {
              ...replaced(
                message,
                () => message.ack(),
                () => message.nack(),
              ),
              topic: undefined,
            }
          : message,
      ),
  );
});
