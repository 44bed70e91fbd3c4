import type { MqError } from '../../api/errors.js';
import { describeValue } from '../describe.js';

// The word and pattern rules of topic routing, said once for every backend: what AMQP topic exchanges and MQTT
// topic filters both take, so that a topic and a pattern mean the same on each.

/** One word of a topic: 1 to 64 ASCII letters, digits, `_` or `-` (no `.`, which joins words, and no wildcard). */
export const TOPIC_WORD_PATTERN: RegExp = /^[A-Za-z0-9_-]{1,64}$/;

/** A whole topic: 1 to {@link MAX_TOPIC_WORDS} words of {@link TOPIC_WORD_PATTERN} joined by single dots. */
const TOPIC_PATTERN = /^[A-Za-z0-9_-]{1,64}(?:\.[A-Za-z0-9_-]{1,64}){0,31}$/;

/** The most words a topic or a pattern has. */
export const MAX_TOPIC_WORDS = 32;

/** The longest topic or pattern, in characters (AMQP's routing key is a shortstr of at most 255 bytes). */
export const MAX_TOPIC_LENGTH = 255;

/** The most patterns a topic receiver's `topics` lists. */
export const MAX_TOPIC_PATTERNS = 64;

/** The most characters of a topic receiver's `group`. */
export const MAX_GROUP_LENGTH = 64;

/** A group name: lower-case ASCII letters, digits, `_` and `-` (no `.`, `/`, `+`, `#`: it names an MQTT share). */
export const GROUP_PATTERN: RegExp = /^[a-z0-9_-]{1,64}$/;

/**
 * Checks a topic (`SendOptions.topic`): words of {@link TOPIC_WORD_PATTERN} joined by single dots, 1 to
 * {@link MAX_TOPIC_WORDS} of them, at most {@link MAX_TOPIC_LENGTH} characters. Returns it; otherwise `fail`s
 * naming `field` and the rule.
 */
export function checkTopic(value: unknown, field: string, fail: (message: string) => MqError): string {
  // The common case in one test, on every send; the split below only says what is wrong.
  if (typeof value === 'string' && value.length <= MAX_TOPIC_LENGTH && TOPIC_PATTERN.test(value))
    return value;
  const words = splitChecked(value, field, fail, 'a topic');
  for (const word of words) {
    if (!TOPIC_WORD_PATTERN.test(word)) {
      throw fail(
        `${field} must be words of A-Z, a-z, 0-9, '_' and '-' (1 to 64 characters each, no wildcards) joined by single dots, got ${describeValue(value)}`,
      );
    }
  }
  return value as string;
}

/**
 * Checks a topic pattern (one of `topics`): words, `*` (exactly one word) and `#` (zero or more words, as the
 * last word only), joined by single dots, at most {@link MAX_TOPIC_WORDS} of them. Returns it; otherwise
 * `fail`s naming `field` and the rule.
 */
export function checkTopicPattern(value: unknown, field: string, fail: (message: string) => MqError): string {
  const words = splitChecked(value, field, fail, 'a pattern');
  for (const [i, word] of words.entries()) {
    if (word === '*') continue;
    if (word === '#') {
      if (i === words.length - 1) continue;
      throw fail(
        `${field}: '#' may only be the last word (it matches the rest), got ${describeValue(value)}`,
      );
    }
    if (!TOPIC_WORD_PATTERN.test(word)) {
      throw fail(
        `${field} must be words of A-Z, a-z, 0-9, '_' and '-' (1 to 64 characters), '*' or a last '#', joined by single dots, got ${describeValue(value)}`,
      );
    }
  }
  return value as string;
}

function splitChecked(
  value: unknown,
  field: string,
  fail: (message: string) => MqError,
  what: string,
): string[] {
  if (typeof value !== 'string') throw fail(`${field} must be ${what} string, got ${describeValue(value)}`);
  if (value.length === 0 || value.length > MAX_TOPIC_LENGTH) {
    throw fail(`${field} must be 1 to ${MAX_TOPIC_LENGTH} characters, got ${value.length}`);
  }
  const words = value.split('.');
  if (words.length > MAX_TOPIC_WORDS) {
    throw fail(`${field} must have at most ${MAX_TOPIC_WORDS} words, got ${words.length}`);
  }
  return words;
}

/**
 * The topic a plain MQTT client's levels (after the space's) stand for: each level that is a word stays as it is;
 * any other (empty, or with characters outside the word rule, such as `.` or a space) is percent-encoded byte by
 * byte (UTF-8), with the empty level read as `%` alone, so that the result never has a `.` that is not a
 * separator and a receiver can tell it never came from an mq sender.
 */
export function topicOfLevels(levels: readonly string[]): string {
  return levels.map(levelAsWord).join('.');
}

function levelAsWord(level: string): string {
  if (TOPIC_WORD_PATTERN.test(level)) return level;
  if (level.length === 0) return '%';
  let out = '';
  for (const byte of Buffer.from(level, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
