import { describe, expect, it } from 'vitest';
import {
  checkTopic,
  checkTopicPattern,
  MqError,
  packageErrors,
  resolveQueueOptions,
  topicMatcher,
  topicMatches,
  topicOfLevels,
} from '../src/spi/index.js';
import { checkSendOptions as checkSendOptionsForTest } from '../src/spi/options/send-options.js';

const x = packageErrors('mq/x');
const resolve = (input: unknown) => resolveQueueOptions(x, input, {}).options;

function failure(action: () => unknown): { code: string; message: string } | undefined {
  try {
    action();
  } catch (error) {
    if (MqError.isInstance(error)) return { code: error.code, message: error.message };
    throw error;
  }
  return undefined;
}

describe('topic patterns match as AMQP topic exchanges and MQTT filters agree', () => {
  it.each([
    ['eu.created', 'eu.created', true],
    ['eu.created', 'eu.deleted', false],
    ['*.created', 'eu.created', true],
    ['*.created', 'created', false],
    ['*.created', 'eu.x.created', false],
    ['orders.#', 'orders', true],
    ['orders.#', 'orders.eu.created', true],
    ['orders.#', 'ordersx', false],
    ['#', 'a.b.c', true],
    ['#', '', true],
    ['*', '', false],
    ['*.*', 'a.b', true],
    ['a.*.#', 'a', false],
    ['a.*.#', 'a.b', true],
    ['a.*.#', 'a.b.c.d', true],
  ] as const)('%s against %s is %s', (pattern, topic, expected) => {
    expect(topicMatches(pattern, topic)).toBe(expected);
  });

  it('a matcher of several patterns says once whether any matches', () => {
    const match = topicMatcher(['*.created', 'eu.#']);
    expect(match('eu.created')).toBe(true);
    expect(match('us.created')).toBe(true);
    expect(match('eu.deleted')).toBe(true);
    expect(match('us.deleted')).toBe(false);
  });
});

describe('topic and pattern rules', () => {
  const fail = (message: string) => x.argument(message);

  it('accepts words of letters, digits, _ and - joined by single dots', () => {
    expect(checkTopic('Eu.created_1.a-b', 'topic', fail)).toBe('Eu.created_1.a-b');
    expect(checkTopicPattern('*.created.#', 'topics[0]', fail)).toBe('*.created.#');
  });

  it.each([
    '',
    '.a',
    'a.',
    'a..b',
    'a.*',
    'a.#',
    'a b',
    'a/b',
    'é',
    'x'.repeat(65),
    Array(33).fill('a').join('.'),
  ])('refuses the topic %j naming the field', (topic) => {
    expect(failure(() => checkTopic(topic, 'topic', fail))?.message).toMatch(/^\[mq\/x\] topic /);
  });

  it.each(['#.a', 'a.#.b', 'a*', 'a.#x', '', 'a..b', 'a+', 'a/b'])('refuses the pattern %j', (pattern) => {
    expect(failure(() => checkTopicPattern(pattern, 'topics[0]', fail))?.message).toMatch(/topics\[0\]/);
  });

  it('reads plain MQTT levels as words, percent-encoding what cannot be one', () => {
    expect(topicOfLevels(['d7', 'temperature'])).toBe('d7.temperature');
    expect(topicOfLevels(['d.7', '', 'a b'])).toBe('d%2E7.%.a%20b');
    expect(topicOfLevels([])).toBe('');
  });

  it('a send with a topic that breaks the rules is INVALID_ARGUMENT naming topic', () => {
    expect(failure(() => checkSendOptionsForTest(x, { topic: 'a.*' }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/topic must be words/),
    });
    expect(checkSendOptionsForTest(x, { topic: 'eu.created' })).toEqual({ topic: 'eu.created' });
  });
});

describe('routing options', () => {
  it('routing defaults to queue, and topics or group there are refused naming the field', () => {
    expect(resolve({ name: 'q', isRecv: true })).not.toHaveProperty('routing');
    expect(failure(() => resolve({ name: 'q', isRecv: true, topics: ['a'] }))).toMatchObject({
      code: 'INVALID_OPTIONS',
      message: expect.stringMatching(/topics is for topic receivers/),
    });
    expect(failure(() => resolve({ name: 'q', isRecv: true, group: 'g' }))?.message).toMatch(/group is for/);
    expect(failure(() => resolve({ name: 'q', isRecv: false, routing: 'fanout' }))?.message).toMatch(
      /routing must be 'queue' or 'topic'/,
    );
  });

  it('a topic sender takes neither topics nor group', () => {
    expect(resolve({ name: 'orders', isRecv: false, routing: 'topic' })).toMatchObject({ routing: 'topic' });
    expect(
      failure(() => resolve({ name: 'orders', isRecv: false, routing: 'topic', topics: ['a'] }))?.message,
    ).toMatch(/topics is for topic receivers/);
    expect(
      failure(() => resolve({ name: 'orders', isRecv: false, routing: 'topic', group: 'g' }))?.message,
    ).toMatch(/group is for topic receivers/);
  });

  it('a topic receiver needs 1 to 64 valid patterns, and a group unless broadcast', () => {
    const ok = resolve({
      name: 'orders',
      isRecv: true,
      routing: 'topic',
      topics: ['*.created', '*.created'],
      group: 'billing',
    });
    expect(ok).toMatchObject({ routing: 'topic', topics: ['*.created'], group: 'billing' });
    const fan = resolve({ name: 'orders', isRecv: true, routing: 'topic', topics: ['#'], broadcast: true });
    expect(fan).toMatchObject({ routing: 'topic', topics: ['#'] });
    expect(fan).not.toHaveProperty('group');
    const base = { name: 'orders', isRecv: true, routing: 'topic', group: 'g' };
    expect(failure(() => resolve({ ...base })))?.toMatchObject({ code: 'INVALID_OPTIONS' });
    expect(failure(() => resolve({ ...base, topics: [] }))?.message).toMatch(/topics must list 1 to 64/);
    expect(failure(() => resolve({ ...base, topics: Array(65).fill('a') }))?.message).toMatch(/1 to 64/);
    expect(failure(() => resolve({ ...base, topics: ['a.#.b'] }))?.message).toMatch(
      /topics\[0\]: '#' may only/,
    );
    expect(failure(() => resolve({ ...base, topics: 'a' }))?.message).toMatch(/topics must be an array/);
    expect(failure(() => resolve({ ...base, topics: ['a'], group: undefined }))?.message).toMatch(
      /group is required/,
    );
    expect(failure(() => resolve({ ...base, topics: ['a'], group: 'A/b' }))?.message).toMatch(
      /group is required/,
    );
    expect(failure(() => resolve({ ...base, topics: ['a'], broadcast: true }))?.message).toMatch(
      /group is for topic receivers that share/,
    );
  });
});
