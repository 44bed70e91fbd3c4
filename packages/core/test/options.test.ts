import { describe, expect, it } from 'vitest';
import { checkUri, MqError, redactUri, resolveQueueOptions } from '../src/spi/index.js';

const prefetch = { required: true, min: 1, max: 65535 };

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return MqError.isInstance(error) ? error.code : 'not an MqError';
  }
  return undefined;
}

describe('resolveQueueOptions', () => {
  it('fills in defaults', () => {
    expect(resolveQueueOptions('mq/x', { name: 'a.b', isRecv: false }, prefetch)).toEqual({
      name: 'a.b',
      isRecv: false,
      reliable: false,
      broadcast: false,
      reconnectMillis: 1000,
      sendTimeoutMillis: 30000,
      prefetch: undefined,
      failure: {
        retryDelayMillis: false,
        maxDeliveries: undefined,
        deadLetter: undefined,
        ackTimeoutMillis: undefined,
      },
    });
  });

  describe('the failure policy of receivers', () => {
    const rule = { required: false, min: 1, max: 65535 };
    const failure = (extra: Record<string, unknown>) =>
      resolveQueueOptions('mq/x', { name: 'jobs', isRecv: true, ...extra }, rule).failure;

    it('retries after 1000 ms by default, with no delivery limit, dead letter or ack deadline', () => {
      expect(failure({})).toEqual({
        retryDelayMillis: 1000,
        maxDeliveries: undefined,
        deadLetter: undefined,
        ackTimeoutMillis: undefined,
      });
    });

    it('takes 0 (at once) and false (leave unacked) as retry delays', () => {
      expect(failure({ retryDelayMillis: 0 }).retryDelayMillis).toBe(0);
      expect(failure({ retryDelayMillis: false }).retryDelayMillis).toBe(false);
    });

    it.each([
      [
        { retryDelayMillis: -1 },
        'retryDelayMillis must be an integer from 0 to 2147483647, or false to leave failed messages unacked, got -1',
      ],
      [
        { retryDelayMillis: true },
        'retryDelayMillis must be an integer from 0 to 2147483647, or false to leave failed messages unacked, got true',
      ],
      [
        { retryDelayMillis: '5' },
        'retryDelayMillis must be an integer from 0 to 2147483647, or false to leave failed messages unacked, got "5"',
      ],
      [{ maxDeliveries: 0 }, 'maxDeliveries must be an integer from 1 to 1000000, got 0'],
      [{ maxDeliveries: 2.5 }, 'maxDeliveries must be an integer from 1 to 1000000, got 2.5'],
      [{ ackTimeoutMillis: 0 }, 'ackTimeoutMillis must be an integer from 1 to 2147483647, got 0'],
      [{ deadLetter: 'jobs.dead' }, 'deadLetter needs maxDeliveries'],
      [{ deadLetter: 'jobs', maxDeliveries: 3 }, "deadLetter must name another queue than 'jobs' itself"],
      [{ deadLetter: 'Jobs Dead', maxDeliveries: 3 }, 'deadLetter: must match'],
      [{ deadLetter: 7, maxDeliveries: 3 }, 'deadLetter: must be a string, got 7'],
      [
        { maxDeliveries: 3, retryDelayMillis: false },
        'maxDeliveries counts the retries of failed messages, and retryDelayMillis false makes none',
      ],
    ])('refuses %o, naming the field and the rule', (extra, message) => {
      expect(() => failure(extra)).toThrow(message);
    });

    it('refuses every failure option on a sender', () => {
      for (const field of ['retryDelayMillis', 'maxDeliveries', 'deadLetter', 'ackTimeoutMillis']) {
        expect(() => resolveQueueOptions('mq/x', { name: 'jobs', isRecv: false, [field]: 5 }, rule)).toThrow(
          `[mq/x] ${field} is for receivers only (isRecv: true), got 5 on a sender`,
        );
      }
    });
  });

  it('gives receivers prefetch 100 when none is given, and refuses prefetch on a sender', () => {
    const rule = { required: false, min: 1, max: 65535 };
    expect(resolveQueueOptions('mq/x', { name: 'a', isRecv: true }, rule).prefetch).toBe(100);
    expect(resolveQueueOptions('mq/x', { name: 'a', isRecv: true, prefetch: 7 }, rule).prefetch).toBe(7);
    expect(() => resolveQueueOptions('mq/x', { name: 'a', isRecv: false, prefetch: 7 }, rule)).toThrow(
      '[mq/x] prefetch is for receivers only (isRecv: true), got 7 on a sender',
    );
  });

  it('requires prefetch on receivers when the backend says so, naming the field and range', () => {
    expect(() => resolveQueueOptions('mq/amqp', { name: 'a', isRecv: true }, prefetch)).toThrow(
      '[mq/amqp] prefetch is required for a receiver: an integer from 1 to 65535',
    );
  });

  it('names the field, the rule and the value', () => {
    expect(() => resolveQueueOptions('mq/x', { name: 'a', isRecv: true, prefetch: 0 }, prefetch)).toThrow(
      '[mq/x] prefetch must be an integer from 1 to 65535, got 0',
    );
  });

  it('accepts extra keys only when the backend lists them', () => {
    expect(
      codeOf(() => resolveQueueOptions('mq/x', { name: 'a', isRecv: false, persistent: true }, prefetch)),
    ).toBe('INVALID_OPTIONS');
    expect(
      codeOf(() =>
        resolveQueueOptions('mq/x', { name: 'a', isRecv: false, persistent: true }, prefetch, ['persistent']),
      ),
    ).toBe(undefined);
  });
});

describe('URIs', () => {
  it('never echo a password', () => {
    expect(redactUri('amqp://user:secret@host:5672/vh')).toBe('amqp://user:***@host:5672/vh');
    let message = '';
    try {
      checkUri('mq/x', 'uri', 'http://user:secret@host', ['amqp']);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('scheme must be one of amqp:');
    expect(message).not.toContain('secret');
  });
});
