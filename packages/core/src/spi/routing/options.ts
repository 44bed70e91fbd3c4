import { MqError } from '../../api/errors.js';
import type { QueueOptions } from '../../api/queue.js';
import { describeValue } from '../describe.js';
import { errorText } from '../errors.js';
import type { OptionReader } from '../options/validate.js';
import { checkTopicPattern, GROUP_PATTERN, MAX_TOPIC_PATTERNS } from './rules.js';

/** A queue's routing once validated: how its name is used, and a topic receiver's patterns and group. */
export interface ResolvedRouting {
  /** `'topic'` on a topic queue (see {@link QueueOptions.routing}); absent on a queue routed by name, so that its resolved options stay as they were. */
  readonly routing?: 'topic';
  /** A topic receiver's patterns (frozen, duplicates dropped); absent on every other queue. */
  readonly topics?: readonly string[];
  /** A topic receiver's group, when it shares messages (`broadcast: false`); absent otherwise. */
  readonly group?: string;
}

/** Reads `routing`, `topics` and `group` and checks how they go together; `INVALID_OPTIONS` naming the field. */
export function readRouting(
  read: OptionReader<QueueOptions>,
  isRecv: boolean,
  broadcast: boolean,
): ResolvedRouting {
  const routing = read.raw('routing') ?? 'queue';
  if (routing !== 'queue' && routing !== 'topic') {
    throw read.fail(`routing must be 'queue' or 'topic', got ${describeValue(routing)}`);
  }
  if (routing === 'queue') {
    for (const key of ['topics', 'group'] as const) {
      if (read.has(key)) {
        throw read.fail(
          `${key} is for topic receivers (routing: 'topic', isRecv: true), got ${describeValue(read.raw(key))} on a queue with routing 'queue'`,
        );
      }
    }
    return ROUTED_BY_NAME;
  }
  if (!isRecv) {
    for (const key of ['topics', 'group'] as const) {
      if (read.has(key)) {
        throw read.fail(
          `${key} is for topic receivers (isRecv: true): a topic sender gives each message its topic (sendMsg's topic), got ${describeValue(read.raw(key))}`,
        );
      }
    }
    return Object.freeze({ routing: 'topic' });
  }
  const topics = readPatterns(read);
  if (broadcast) {
    if (read.has('group')) {
      throw read.fail(
        `group is for topic receivers that share messages (broadcast: false), got ${describeValue(read.raw('group'))} with broadcast: true`,
      );
    }
    return Object.freeze({ routing: 'topic', topics });
  }
  const group = read.raw('group');
  if (typeof group !== 'string' || !GROUP_PATTERN.test(group)) {
    throw read.fail(
      `group is required on a topic receiver with broadcast: false (receivers of one group share its messages) and must match ${GROUP_PATTERN}, got ${describeValue(group)}`,
    );
  }
  return Object.freeze({ routing: 'topic', topics, group });
}

const ROUTED_BY_NAME: ResolvedRouting = Object.freeze({});

function readPatterns(read: OptionReader<QueueOptions>): readonly string[] {
  const raw = read.raw('topics');
  const fail = (message: string): MqError => read.fail(message);
  let list: unknown[];
  try {
    if (!Array.isArray(raw)) {
      throw read.fail(
        `topics must be an array of 1 to ${MAX_TOPIC_PATTERNS} patterns on a topic receiver, got ${describeValue(raw)}`,
      );
    }
    list = Array.from({ length: raw.length }, (_, i) => (Object.hasOwn(raw, i) ? raw[i] : undefined));
  } catch (error) {
    if (MqError.isInstance(error)) throw error;
    throw read.fail(`topics could not be read: ${errorText(error)}`);
  }
  if (list.length === 0 || list.length > MAX_TOPIC_PATTERNS) {
    throw read.fail(`topics must list 1 to ${MAX_TOPIC_PATTERNS} patterns, got ${list.length}`);
  }
  const patterns = list.map((pattern, i) => checkTopicPattern(pattern, `topics[${i}]`, fail));
  return Object.freeze([...new Set(patterns)]);
}
