import { describe, expect, it } from 'vitest';
import { BYTES_CODEC } from '../src/spi/codec/codecs.js';
import {
  checkUri,
  classifyLinkError,
  MqError,
  needsAttention,
  packageErrors,
  redactUri,
  resolveQueueOptions,
} from '../src/spi/index.js';

const x = packageErrors('mq/x');

/** The resolved options of a queue with only the shared options. */
const resolve = (input: unknown) => resolveQueueOptions(x, input, {}).options;

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
    expect(resolve({ name: 'a.b', isRecv: false })).toStrictEqual({
      name: 'a.b',
      isRecv: false,
      reliable: false,
      broadcast: false,
      reconnectMillis: 1000,
      sendTimeoutMillis: 30000,
      sendBufferMessages: 10000,
      sendBufferBytes: 33554432,
      closeTimeoutMillis: 30000,
      codec: BYTES_CODEC,
      schema: undefined,
    });
    expect(resolve({ name: 'a.b', isRecv: true })).toStrictEqual({
      name: 'a.b',
      isRecv: true,
      reliable: false,
      broadcast: false,
      reconnectMillis: 1000,
      sendTimeoutMillis: 30000,
      sendBufferMessages: 10000,
      sendBufferBytes: 33554432,
      closeTimeoutMillis: 30000,
      prefetch: 100,
      failure: {
        retryDelayMillis: 1000,
        maxDeliveries: undefined,
        deadLetter: undefined,
        ackTimeoutMillis: undefined,
      },
      codec: BYTES_CODEC,
      schema: undefined,
      concurrency: undefined,
      orderingKey: undefined,
    });
  });

  describe('the failure policy of receivers', () => {
    const failure = (extra: Record<string, unknown>) => {
      const options = resolve({ name: 'jobs', isRecv: true, ...extra });
      if (!options.isRecv) throw new Error('a receiver was expected');
      return options.failure;
    };

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
        expect(() => resolve({ name: 'jobs', isRecv: false, [field]: 5 })).toThrow(
          `[mq/x] ${field} is for receivers only (isRecv: true), got 5 on a sender`,
        );
      }
    });
  });

  it('gives receivers prefetch 100 when none is given, and refuses prefetch on a sender', () => {
    expect(resolve({ name: 'a', isRecv: true })).toMatchObject({ prefetch: 100 });
    expect(resolve({ name: 'a', isRecv: true, prefetch: 7 })).toMatchObject({ prefetch: 7 });
    expect(() => resolve({ name: 'a', isRecv: false, prefetch: 7 })).toThrow(
      '[mq/x] prefetch is for receivers only (isRecv: true), got 7 on a sender',
    );
  });

  it('names the field, the rule and the value', () => {
    expect(() => resolve({ name: 'a', isRecv: true, prefetch: 0 })).toThrow(
      '[mq/x] prefetch must be an integer from 1 to 65535, got 0',
    );
  });

  it('accepts extra keys only when the backend lists them, and hands back the reader for them', () => {
    expect(codeOf(() => resolve({ name: 'a', isRecv: false, persistent: true }))).toBe('INVALID_OPTIONS');
    const { read } = resolveQueueOptions<{ name: string; isRecv: boolean; persistent?: boolean }>(
      x,
      { name: 'a', isRecv: false, persistent: true },
      { persistent: true },
    );
    expect(read.boolean('persistent', false)).toBe(true);
  });
});

describe('URIs', () => {
  it('never echo a password', () => {
    expect(redactUri('amqp://user:secret@host:5672/vh')).toBe('amqp://user:***@host:5672/vh');
    let message = '';
    try {
      checkUri(x, 'uri', 'http://user:secret@host', ['amqp']);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('scheme must be one of amqp:');
    expect(message).not.toContain('secret');
  });

  it.each([
    ['x://u:p@host/#frag', 'uri must not have a #fragment: it is never sent'],
    ['x://u:p@host#', 'uri must not have a #fragment: it is never sent'],
    ['x://u:se%ZZcret@host', 'uri password has a malformed percent escape (write a literal % as %25)'],
    ['x://u%ZZ:secret@host', 'uri user has a malformed percent escape'],
  ])('refuse %s, which no broker could be given (%s), never echoing the password', (uri, expected) => {
    let thrown: unknown;
    try {
      checkUri(x, 'uri', uri, ['x']);
    } catch (error) {
      thrown = error;
    }
    expect(MqError.hasCode(thrown, 'INVALID_OPTIONS')).toBe(true);
    expect((thrown as Error).message).toContain(`[mq/x] ${expected}`);
    expect((thrown as Error).message).not.toMatch(/secret|se%ZZ/);
  });

  it('take a # or % that is percent-encoded in the password', () => {
    expect(checkUri(x, 'uri', 'x://u:a%23b%25c@host', ['x']).password).toBe('a%23b%25c');
  });
});

describe('classifyLinkError', () => {
  it("calls OpenSSL's own errors (a key it cannot load) TLS_FAILED, as Node's TLS errors: retrying cannot fix them", () => {
    const badDecrypt = Object.assign(new Error('error:1C800064:Provider routines::bad decrypt'), {
      code: 'ERR_OSSL_BAD_DECRYPT',
    });
    expect(classifyLinkError(badDecrypt, true)).toBe('TLS_FAILED');
    expect(classifyLinkError(new Error('wrapped', { cause: badDecrypt }), false)).toBe('TLS_FAILED');
    expect(needsAttention(new MqError('TLS_FAILED', 'x'))).toBe(true);
  });
});
