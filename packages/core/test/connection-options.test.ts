import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MqError, packageErrors, readTlsOptions, resolveSharedConnectionOptions } from '../src/spi/index.js';
import { makeTlsMaterial, type TlsMaterial, tlsMaterialMissing } from './tls-material.js';

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
    expect(readTlsOptions(x, {}, [new URL('xs://a'), new URL('xs://b')], ['xs'])?.connect).toEqual({
      rejectUnauthorized: true,
    });
  });
});

describe('readTlsOptions', () => {
  const tlsUrl = new URL('xs://host');
  const missing = tlsMaterialMissing();
  const pem = missing === undefined ? makeTlsMaterial() : undefined;

  it('returns nothing when absent on a plain URI, an explicit rejectUnauthorized true on a TLS one, and fresh connect options with rejectUnauthorized true by default', () => {
    expect(readTlsOptions(x, undefined, new URL('x://host'), ['xs'])).toBeUndefined();
    const absent = readTlsOptions(x, undefined, tlsUrl, ['xs']);
    expect(absent).toEqual({ connect: { rejectUnauthorized: true }, clientCertificate: false });
    expect(Object.hasOwn(absent?.connect as object, 'rejectUnauthorized')).toBe(true);
    const tls = readTlsOptions(x, { servername: 'broker' }, tlsUrl, ['xs']);
    expect(tls?.connect).toEqual({ servername: 'broker', rejectUnauthorized: true });
  });

  it.skipIf(missing !== undefined)(
    `loads the CA, certificate and key into a secure context and hands on nothing else${missing ? ` (skipped: ${missing})` : ''}`,
    () => {
      const { cert, encryptedKey, passphrase } = pem as TlsMaterial;
      const tls = readTlsOptions(
        x,
        { ca: [cert, Buffer.from(cert)], cert, key: encryptedKey, passphrase, servername: 'broker' },
        tlsUrl,
        ['xs'],
      );
      expect(Object.keys(tls?.connect ?? {}).sort()).toEqual([
        'rejectUnauthorized',
        'secureContext',
        'servername',
      ]);
      expect(tls?.connect.secureContext?.constructor.name).toBe('SecureContext');
      expect(tls?.clientCertificate).toBe(true);
      const shown = inspect(tls, { showHidden: true, getters: true, depth: 12 });
      for (const secret of [passphrase, encryptedKey.split('\n')[1] as string])
        expect(shown).not.toContain(secret);
    },
  );

  it.skipIf(missing !== undefined)(
    `a wrong or missing passphrase, a key that does not match the certificate, and PEMs that are none are INVALID_OPTIONS naming the field, never echoing it${missing ? ` (skipped: ${missing})` : ''}`,
    () => {
      const { cert, key, encryptedKey, passphrase, otherKey } = pem as TlsMaterial;
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ cert, key: encryptedKey, passphrase: 'wrong-Pp-1' }, 'tls.passphrase does not decrypt tls.key'],
        [{ cert, key: encryptedKey }, 'tls.key is encrypted: give its tls.passphrase'],
        [{ cert, key: otherKey }, 'tls.key does not match tls.cert'],
        [{ cert, key: 'not a key Kx9' }, 'tls.key must be a PEM private key'],
        [{ cert: 'not a cert Cx9', key }, 'tls.cert must be a PEM certificate chain'],
        [{ ca: 'not a ca Ax9' }, 'tls.ca must be a PEM certificate (of a CA); it holds none'],
        [{ ca: [cert, key] }, 'tls.ca[1] must be a PEM certificate'],
      ];
      for (const [given, expected] of cases) {
        const error = failureOf(() => readTlsOptions(x, given, tlsUrl, ['xs']));
        expect(error.code).toBe('INVALID_OPTIONS');
        expect(error.message).toContain(`[mq/x] ${expected}`);
        for (const secret of ['wrong-Pp-1', passphrase, 'Kx9', 'Cx9', 'Ax9', key.split('\n')[1] as string]) {
          expect(error.message).not.toContain(secret);
        }
      }
    },
  );

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

/** The MqError `action` throws. */
function failureOf(action: () => unknown): MqError {
  try {
    action();
  } catch (error) {
    if (MqError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a throw');
}
