import { describe, expect, it } from 'vitest';
import { MqError, packageErrors, readTlsOptions, resolveSharedConnectionOptions } from '../src/spi/index.js';

const x = packageErrors('mq/x');

/** Connection options of a backend with one option of its own, `own`. */
interface XOptions {
  uri?: string | readonly string[];
  own?: number;
}

const spec = { schemes: ['x', 'xs'], defaultUri: 'x://localhost', extraKeys: { own: true } } as const;

function invalidMessage(make: () => unknown): string {
  try {
    make();
  } catch (error) {
    expect(MqError.hasCode(error, 'INVALID_OPTIONS')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected INVALID_OPTIONS');
}

describe('resolveSharedConnectionOptions', () => {
  it('fills in the documented defaults and hands back the record for the backend to read its own fields', () => {
    const { shared, read } = resolveSharedConnectionOptions<XOptions>(x, { own: 7 }, spec);
    expect(shared.url.toString()).toBe('x://localhost');
    expect(shared).toMatchObject({
      connectTimeoutMillis: 3000,
      reconnectMillis: 1000,
      reconnectMaxMillis: 30_000,
    });
    expect(read.raw('own')).toBe(7);
  });

  it('raises the default reconnectMaxMillis to a larger reconnectMillis, and takes a fixed interval', () => {
    expect(
      resolveSharedConnectionOptions<XOptions>(x, { reconnectMillis: 60_000 }, spec).shared
        .reconnectMaxMillis,
    ).toBe(60_000);
    const fixed = resolveSharedConnectionOptions<XOptions>(
      x,
      { reconnectMillis: 500, reconnectMaxMillis: 500 },
      spec,
    );
    expect(fixed.shared).toMatchObject({ reconnectMillis: 500, reconnectMaxMillis: 500 });
  });

  it('names the field and the rule', () => {
    expect(
      invalidMessage(() =>
        resolveSharedConnectionOptions<XOptions>(x, { reconnectMaxMillis: 10, reconnectMillis: 20 }, spec),
      ),
    ).toBe('[mq/x] reconnectMaxMillis must be at least reconnectMillis (20), got 10');
    expect(invalidMessage(() => resolveSharedConnectionOptions<XOptions>(x, { uri: 'y://h' }, spec))).toBe(
      '[mq/x] uri scheme must be one of x:, xs:, got y:',
    );
    expect(
      invalidMessage(() => resolveSharedConnectionOptions<XOptions>(x, { reconnectMillis: 2 ** 31 }, spec)),
    ).toMatch(/reconnectMillis must be an integer from 1 to 2147483647/);
    expect(invalidMessage(() => resolveSharedConnectionOptions<XOptions>(x, { theirs: 1 }, spec))).toMatch(
      /unknown field 'theirs'; known fields: uri, connectTimeoutMillis, reconnectMillis, reconnectMaxMillis, own/,
    );
  });
});

describe('uri as an array of addresses', () => {
  it('takes a non-empty array, each URI validated, in order', () => {
    const { shared } = resolveSharedConnectionOptions<XOptions>(
      x,
      { uri: ['x://a:1', 'xs://u:p@b:2'] },
      spec,
    );
    expect(shared.urls.map(String)).toEqual(['x://a:1', 'xs://u:p@b:2']);
    expect(shared.url.toString()).toBe('x://a:1');
  });

  it('names the element that breaks the rule, and the rule', () => {
    expect(invalidMessage(() => resolveSharedConnectionOptions<XOptions>(x, { uri: [] }, spec))).toBe(
      '[mq/x] uri as an array must list 1 to 64 URIs, got 0',
    );
    expect(
      invalidMessage(() => resolveSharedConnectionOptions<XOptions>(x, { uri: ['x://a', 'y://b'] }, spec)),
    ).toBe('[mq/x] uri[1] scheme must be one of x:, xs:, got y:');
    expect(
      invalidMessage(() => resolveSharedConnectionOptions<XOptions>(x, { uri: ['x://a', 7] }, spec)),
    ).toBe('[mq/x] uri[1] must be a string, got 7');
    expect(invalidMessage(() => resolveSharedConnectionOptions<XOptions>(x, { uri: 7 }, spec))).toBe(
      '[mq/x] uri must be a URI string or an array of them, got 7',
    );
    const many = Array.from({ length: 65 }, (_, i) => `x://h${i}`);
    expect(invalidMessage(() => resolveSharedConnectionOptions<XOptions>(x, { uri: many }, spec))).toMatch(
      /must list 1 to 64 URIs, got 65/,
    );
  });

  it('never echoes a password of a bad element', () => {
    const message = invalidMessage(() =>
      resolveSharedConnectionOptions<XOptions>(x, { uri: ['x://a', 'not a uri://u:secret@h'] }, spec),
    );
    expect(message).not.toContain('secret');
  });

  it('allows tls only when every URI is a TLS one', () => {
    const urls = [new URL('xs://a'), new URL('x://b')];
    expect(invalidMessage(() => readTlsOptions(x, {}, urls, ['xs']))).toBe(
      '[mq/x] tls is only used with an xs: uri, got x:',
    );
    expect(readTlsOptions(x, {}, [new URL('xs://a'), new URL('xs://b')], ['xs'])).toEqual({
      rejectUnauthorized: true,
    });
  });
});

describe('readTlsOptions', () => {
  const tlsUrl = new URL('xs://host');

  it('returns nothing when absent on a plain URI, an explicit rejectUnauthorized true on a TLS one, and a fresh object with rejectUnauthorized true by default', () => {
    expect(readTlsOptions(x, undefined, new URL('x://host'), ['xs'])).toBeUndefined();
    const absent = readTlsOptions(x, undefined, tlsUrl, ['xs']);
    expect(absent).toEqual({ rejectUnauthorized: true });
    expect(Object.hasOwn(absent as object, 'rejectUnauthorized')).toBe(true);
    const given = { ca: ['a', Buffer.from('b')], servername: 'broker' };
    const tls = readTlsOptions(x, given, tlsUrl, ['xs']);
    expect(tls).toEqual({ ca: ['a', Buffer.from('b')], servername: 'broker', rejectUnauthorized: true });
    expect(tls).not.toBe(given);
  });

  it('refuses bad fields and TLS on a plain-TCP URI', () => {
    expect(invalidMessage(() => readTlsOptions(x, { ca: 1 }, tlsUrl, ['xs']))).toBe(
      '[mq/x] tls.ca must be a PEM string, a Buffer or an array of them, got 1',
    );
    expect(invalidMessage(() => readTlsOptions(x, { pfx: 'x' }, tlsUrl, ['xs']))).toMatch(
      /unknown field 'pfx'/,
    );
    expect(invalidMessage(() => readTlsOptions(x, {}, new URL('x://host'), ['xs', 'ws']))).toBe(
      '[mq/x] tls is only used with an xs: or ws: uri, got x:',
    );
  });
});
