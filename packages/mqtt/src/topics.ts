import { topicOfLevels } from '@mq/core/spi';

// Topic routing on MQTT (issue 27): a topic space is the first topic level, each word of a topic one more level,
// `*` is `+`, a last `#` is `#`, and a group is the shared subscription `$share/<group>/...`.

/** A subscription's topic filter (or, for a topic receiver, its filters). */
export type Filters = string | readonly string[];

/** The MQTT topic of a message sent on space `space` with `topic`: `orders` + `eu.created` is `orders/eu/created`. */
export function spaceTopic(space: string, topic: string): string {
  return `${space}/${topic.replaceAll('.', '/')}`;
}

/** The MQTT filter of one pattern in `space`: `*.created` is `<space>/+/created`. */
function patternFilter(space: string, pattern: string): string {
  return `${space}/${pattern
    .split('.')
    .map((word) => (word === '*' ? '+' : word))
    .join('/')}`;
}

/**
 * The filters a topic receiver subscribes to: one per pattern, behind `$share/<group>/` for a group. When two of
 * its patterns can match one topic, one filter for the whole space instead (`<space>/#`, the receiver keeping
 * only what its patterns match): MQTT brokers send a message once per matching subscription (Mosquitto does),
 * and copies of one message through two shared subscriptions can even go to two receivers of the group.
 */
export function topicFilters(space: string, topics: readonly string[], group: string | undefined): string[] {
  const prefix = group === undefined ? '' : `$share/${group}/`;
  if (overlapping(topics)) return [`${prefix}${space}/#`];
  return topics.map((pattern) => `${prefix}${patternFilter(space, pattern)}`);
}

/**
 * True when two of `topics` can match one topic: the receiver then subscribes to its whole space and keeps only
 * what its patterns match (see {@link topicFilters}); otherwise the broker's filters do all the matching.
 */
export function overlapping(topics: readonly string[]): boolean {
  return topics.some((a, i) => topics.slice(i + 1).some((b) => patternsOverlap(a, b)));
}

/** True when some topic matches both patterns. */
export function patternsOverlap(a: string, b: string): boolean {
  return wordsOverlap(a.split('.'), b.split('.'));
}

function wordsOverlap(a: readonly string[], b: readonly string[]): boolean {
  for (let i = 0; ; i += 1) {
    const x = a[i];
    const y = b[i];
    if (x === '#' || y === '#') return true;
    if (x === undefined || y === undefined) return x === y;
    if (x !== '*' && y !== '*' && x !== y) return false;
  }
}

/**
 * The topic of a message that arrived on MQTT topic `packetTopic` in space `space`: its levels after the
 * space's, as words (see `topicOfLevels` for levels that cannot be words).
 */
export function topicOfPacket(packetTopic: string): string {
  const slash = packetTopic.indexOf('/');
  if (slash < 0) return '';
  const levels = packetTopic.slice(slash + 1);
  // The common case (what mq senders publish) in one test: every level already a word.
  return WORD_LEVELS.test(levels) ? levels.replaceAll('/', '.') : topicOfLevels(levels.split('/'));
}

/** Levels that are all words (see `TOPIC_WORD_PATTERN`), joined by single slashes. */
const WORD_LEVELS = /^[A-Za-z0-9_-]{1,64}(?:\/[A-Za-z0-9_-]{1,64})*$/;

/**
 * The key under which the connection's table routes a message of MQTT topic `packetTopic`: its first level,
 * which is a named queue's whole topic (names have no `/`) or a topic space.
 */
export function routeKey(packetTopic: string): string {
  const slash = packetTopic.indexOf('/');
  return slash < 0 ? packetTopic : packetTopic.slice(0, slash);
}

/**
 * A conversion that remembers its last input: consecutive messages mostly share their topic, and each of those
 * then costs one string comparison.
 */
export class LastConversion {
  readonly #convert: (from: string) => string;
  #from: string | undefined;
  #to = '';

  /** Nothing converted yet. */
  constructor(convert: (from: string) => string) {
    this.#convert = convert;
  }

  /** `convert(from)`, computed only when `from` differs from the last input. */
  of(from: string): string {
    if (from !== this.#from) {
      this.#to = this.#convert(from);
      this.#from = from;
    }
    return this.#to;
  }
}
