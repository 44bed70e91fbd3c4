import { describe, expect, it } from 'vitest';
import { BYTES_CODEC } from '../src/spi/codec/codecs.js';
import {
  MqError,
  ownConnection,
  packageErrors,
  readTlsOptions,
  replayOptions,
  resolveQueueOptions,
  resolveSharedConnectionOptions,
  type Status,
  selectBackend,
  TypedEmitter,
  waitForStatus,
} from '../src/spi/index.js';
import { checkSendOptions, hasMetadata } from '../src/spi/options/send-options.js';
import { checkPayload } from '../src/spi/queue/arguments.js';
import { MemoryLikeConnection } from './fixtures.js';

const x = packageErrors('mq/x');
const spec = { schemes: ['x', 'xs'], defaultUri: 'x://localhost', extraKeys: {} } as const;

/**
 * Runs `body` with `fields` set on `Object.prototype` (as a compromised dependency of the app could), and always
 * removes them again.
 */
function polluted<T>(fields: Record<string, unknown>, body: () => T): T {
  const proto = Object.prototype as Record<string, unknown>;
  for (const [name, value] of Object.entries(fields)) proto[name] = value;
  try {
    return body();
  } finally {
    for (const name of Object.keys(fields)) delete proto[name];
  }
}

/** The error `action` throws, which must be an MqError with `code` whose message names `field`. */
function failure(action: () => unknown, code: string, field: string): MqError {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(MqError.isInstance(thrown), `expected an MqError, got ${String(thrown)}`).toBe(true);
  const error = thrown as MqError;
  expect(error.code).toBe(code);
  expect(error.message).toContain(field);
  return error;
}

class ObjectWithClass {
  name = 'jobs';
  isRecv = false;
}

/** Objects that are not plain: given as options, each is refused, never read as empty. */
const NOT_PLAIN: Array<[string, () => object]> = [
  ['an Error', () => new Error('e')],
  ['a Map', () => new Map([['name', 'jobs']])],
  ['a Date', () => new Date()],
  ['an AbortSignal', () => AbortSignal.abort()],
  ['a class instance', () => new ObjectWithClass()],
  ['an array', () => ['jobs']],
];

describe('options are read through own properties only', () => {
  it('a polluted Object.prototype changes no queue option: a sender takes no prefetch, defaults stay', () => {
    polluted({ prefetch: 0, reliable: true, broadcast: true, retryDelayMillis: -1, deadLetter: 'x' }, () => {
      const sender = resolveQueueOptions(x, { name: 'jobs', isRecv: false }, {}).options;
      expect(sender).toStrictEqual({
        name: 'jobs',
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
      const receiver = resolveQueueOptions(x, { name: 'jobs', isRecv: true }, {}).options;
      expect(receiver).toMatchObject({
        prefetch: 100,
        failure: { retryDelayMillis: 1000, deadLetter: undefined },
      });
    });
  });

  it('a polluted Object.prototype changes no connection option', () => {
    polluted({ uri: 'x://evil', connectTimeoutMillis: 1, reconnectMillis: 'soon' }, () => {
      const { shared } = resolveSharedConnectionOptions(x, {}, spec);
      expect(shared.url.toString()).toBe('x://localhost');
      expect(shared.connectTimeoutMillis).toBe(3000);
      expect(shared.reconnectMillis).toBe(1000);
    });
  });

  it('Object.prototype.rejectUnauthorized = false reaches no TLS options: rejectUnauthorized is always their own, true', () => {
    polluted({ rejectUnauthorized: false }, () => {
      const tlsUrl = new URL('xs://broker');
      for (const given of [undefined, {}, { servername: 'broker' }, Object.create(null)]) {
        const tls = readTlsOptions(x, given, tlsUrl, ['xs'])?.connect as unknown as Record<string, unknown>;
        expect(Object.hasOwn(tls, 'rejectUnauthorized')).toBe(true);
        expect(tls.rejectUnauthorized).toBe(true);
        // What a client library builds from them by spreading still says true.
        expect({ ...tls }.rejectUnauthorized).toBe(true);
      }
    });
  });

  it('a polluted Object.prototype adds no metadata to a send, and the checked copy inherits nothing', () => {
    polluted({ messageId: 'evil', headers: { evil: '1' }, expirationMillis: 1 }, () => {
      const checked = checkSendOptions(x, {}) as Record<string, unknown>;
      // Each field its own property, so that nothing inherited is read through it.
      for (const field of [
        'headers',
        'messageId',
        'correlationId',
        'contentType',
        'replyTo',
        'expirationMillis',
        'topic',
      ]) {
        expect(Object.hasOwn(checked, field)).toBe(true);
        expect(checked[field]).toBeUndefined();
      }
      expect(hasMetadata(checked)).toBe(false);
      expect(Object.isFrozen(checked)).toBe(true);
      const withHeaders = checkSendOptions(x, { headers: { a: '1' } }) as {
        headers: Record<string, unknown>;
      };
      expect(Object.keys(withHeaders.headers)).toEqual(['a']);
      expect(withHeaders.headers.evil).toBeUndefined();
    });
  });

  it('a polluted Object.prototype adds no header or id to replayOptions, and lends no schemes to selectBackend', () => {
    polluted({ headers: { evil: '1' }, messageId: 'evil', schemes: ['x'] }, () => {
      expect(replayOptions({ payload: Buffer.from('x') } as never)).toEqual({});
      failure(
        () => selectBackend('x://h', [{}] as never),
        'INVALID_ARGUMENT',
        'backends[0] must be a backend',
      );
    });
  });

  it('a polluted Object.prototype changes no waitForStatus option: an inherited aborted signal aborts nothing', async () => {
    const source = new (class extends TypedEmitter<{ status: (s: Status) => void }> {
      status: Status = 'closed';
      set(next: Status): void {
        this.status = next;
        this.emit('status', next);
      }
    })();
    const waiting = polluted({ signal: AbortSignal.abort(), timeoutMillis: -5 }, () =>
      waitForStatus(source, 'connected'),
    );
    source.set('connected');
    await expect(waiting).resolves.toBeUndefined();
  });
});

describe('objects that are not plain, and objects that throw when read', () => {
  it.each(NOT_PLAIN)('%s as queue options is INVALID_OPTIONS naming them', (_what, make) => {
    failure(() => resolveQueueOptions(x, make(), {}), 'INVALID_OPTIONS', 'queue options must be a');
  });

  it.each(NOT_PLAIN)('%s as connection options is INVALID_OPTIONS naming them', (_what, make) => {
    failure(() => resolveSharedConnectionOptions(x, make(), spec), 'INVALID_OPTIONS', 'connection options');
  });

  it.each(NOT_PLAIN)('%s as tls is INVALID_OPTIONS naming tls', (_what, make) => {
    failure(() => readTlsOptions(x, make(), new URL('xs://h'), ['xs']), 'INVALID_OPTIONS', 'tls must be a');
  });

  it.each(NOT_PLAIN)('%s as send options or as headers is INVALID_ARGUMENT naming them', (_what, make) => {
    failure(() => checkSendOptions(x, make()), 'INVALID_ARGUMENT', 'send options must be a');
    failure(() => checkSendOptions(x, { headers: make() }), 'INVALID_ARGUMENT', 'headers must be a');
  });

  it('a getter that throws is the typed error naming the field, never the getter own exception', () => {
    const options = {
      name: 'jobs',
      get isRecv(): boolean {
        throw new TypeError('getter bug');
      },
    };
    const error = failure(
      () => resolveQueueOptions(x, options, {}),
      'INVALID_OPTIONS',
      'isRecv could not be read',
    );
    expect(error.message).toContain('getter bug');
    const tls = {
      get ca(): string {
        throw new Error('no ca');
      },
    };
    failure(
      () => readTlsOptions(x, tls, new URL('xs://h'), ['xs']),
      'INVALID_OPTIONS',
      'tls.ca could not be read',
    );
  });

  it('a revoked proxy is the typed error naming the object, never a raw TypeError', () => {
    const revoked = (): object => {
      const { proxy, revoke } = Proxy.revocable({ name: 'jobs', isRecv: false }, {});
      revoke();
      return proxy;
    };
    failure(() => resolveQueueOptions(x, revoked(), {}), 'INVALID_OPTIONS', 'queue options');
    failure(
      () => resolveSharedConnectionOptions(x, revoked(), spec),
      'INVALID_OPTIONS',
      'connection options',
    );
    failure(() => resolveSharedConnectionOptions(x, { uri: revoked() }, spec), 'INVALID_OPTIONS', 'uri');
    failure(() => checkSendOptions(x, revoked()), 'INVALID_ARGUMENT', 'send options');
    failure(() => checkSendOptions(x, { headers: revoked() }), 'INVALID_ARGUMENT', 'headers');
  });

  it('an object without prototype is a plain object', () => {
    const options = Object.assign(Object.create(null), { name: 'jobs', isRecv: false });
    expect(resolveQueueOptions(x, options, {}).options.name).toBe('jobs');
  });
});

/** A proxy that was revoked: every look at it throws a raw TypeError. */
function revokedProxy(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

/** The error `action` throws or rejects with, which must be an MqError with `code` whose message names `field`. */
async function settledFailure(action: () => unknown, code: string, field: string): Promise<void> {
  let thrown: unknown;
  try {
    await action();
  } catch (error) {
    thrown = error;
  }
  expect(MqError.isInstance(thrown), `expected an MqError, got ${String(thrown)}`).toBe(true);
  expect((thrown as MqError).code).toBe(code);
  expect((thrown as MqError).message).toContain(field);
}

describe('every entry point answers hostile input with an MqError naming it (#26.5)', () => {
  it('event names that are not strings or symbols (an object without prototype, a revoked proxy)', () => {
    const connection = new MemoryLikeConnection();
    for (const event of [Object.create(null), revokedProxy(), 42, undefined]) {
      for (const call of ['on', 'once', 'off', 'listenerCount'] as const) {
        failure(
          () => (connection[call] as (e: unknown, l: () => void) => unknown)(event, () => {}),
          'INVALID_ARGUMENT',
          'event must be an event name',
        );
      }
    }
    failure(() => connection.on('status', 42 as never), 'INVALID_ARGUMENT', "listener for 'status'");
  });

  it('replayOptions with no message, an unreadable one or a bad reserved set', () => {
    for (const message of [undefined, null, 'text']) {
      failure(() => replayOptions(message as never), 'INVALID_ARGUMENT', 'replayOptions: message must be');
    }
    failure(() => replayOptions(revokedProxy() as never), 'INVALID_ARGUMENT', 'message could not be read');
    const throwing = {
      get headers(): never {
        throw new Error('no headers');
      },
    };
    failure(
      () => replayOptions(throwing as never),
      'INVALID_ARGUMENT',
      'message could not be read: no headers',
    );
    failure(() => replayOptions({} as never, 42 as never), 'INVALID_ARGUMENT', 'reserved must be a Set');
    expect(replayOptions({ headers: { a: '1', 'mq-x': '2' }, messageId: 'm' } as never)).toEqual({
      headers: { a: '1' },
      messageId: 'm',
    });
  });

  it('selectBackend with unreadable URIs, objects posing as URIs and no backend list', () => {
    const backends = [{ schemes: ['x'] }] as never;
    failure(
      () => selectBackend(revokedProxy() as never, backends),
      'INVALID_OPTIONS',
      'uri could not be read',
    );
    failure(
      () => selectBackend(Object.create(null), backends),
      'INVALID_OPTIONS',
      'uri must be a URI string',
    );
    failure(
      () => selectBackend([{ toString: () => 'x://h' }] as never, backends),
      'INVALID_OPTIONS',
      'uri[0] must be a URI string',
    );
    for (const list of [undefined, revokedProxy(), [null], [{ schemes: revokedProxy() }]]) {
      failure(() => selectBackend('x://h', list as never), 'INVALID_ARGUMENT', 'backends');
    }
  });

  it('waitForStatus with a source that throws when read rejects, and never throws later from a timer', async () => {
    await settledFailure(
      () => waitForStatus(revokedProxy() as never, 'connected'),
      'INVALID_ARGUMENT',
      'waitForStatus: source could not be read',
    );
    const throwingStatus = {
      get status(): never {
        throw new Error('status getter');
      },
      on: () => {},
      off: () => {},
    };
    await settledFailure(
      () => waitForStatus(throwingStatus as never, 'connected'),
      'INVALID_ARGUMENT',
      'source could not be read: status getter',
    );
    await settledFailure(
      () =>
        waitForStatus(new MemoryLikeConnection(), 'connected', {
          signal: Object.create(AbortSignal.prototype),
        }),
      'INVALID_ARGUMENT',
      'signal must be an AbortSignal',
    );
  });

  it('a queue given a revoked proxy as its connection, and sends given one as payload', async () => {
    failure(
      () => ownConnection(x, revokedProxy() as never, MemoryLikeConnection),
      'INVALID_OPTIONS',
      'connection must be a MemoryLikeConnection',
    );
    expect(() => checkPayload(x, revokedProxy())).toThrow('payload must be a Uint8Array or Buffer');
    expect(MqError.isInstance(revokedProxy())).toBe(false);
  });
});
