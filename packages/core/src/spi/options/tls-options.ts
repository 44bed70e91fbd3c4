import type { TlsOptions } from '../../api/tls.js';
import { describeValue } from '../describe.js';
import type { PackageErrors } from '../errors.js';
import { OptionReader, type ReaderTable } from './validate.js';

/** Each field of `tls`, read from its own property only: one entry per field of `TlsOptions`. */
const TLS_OPTIONS = {
  ca: (read) => readPem(read, 'ca'),
  cert: (read) => readPem(read, 'cert'),
  key: (read) => readPem(read, 'key'),
  passphrase: (read) => read.string('passphrase'),
  servername: (read) => read.string('servername'),
  // Explicit, never inherited: a polluted `Object.prototype.rejectUnauthorized = false` must not turn checks off.
  rejectUnauthorized: (read) => read.boolean('rejectUnauthorized', true),
} as const satisfies ReaderTable<TlsOptions>;

/**
 * Validates the `tls` option for `urls` (or one URL) and returns a fresh object holding each given field and
 * `rejectUnauthorized` (default true) as its own: spread it into the client library's options. When `tls` is
 * absent it is `{ rejectUnauthorized: true }` if any URI is of one of `tlsSchemes` (so that nothing inherited can
 * decide), else `undefined`. Throws `INVALID_OPTIONS` when a field is wrong, or when `tls` is given and a URI is
 * not a TLS one (the options would be ignored silently).
 */
export function readTlsOptions(
  errors: PackageErrors,
  value: unknown,
  urls: URL | readonly URL[],
  tlsSchemes: readonly string[],
): TlsOptions | undefined {
  const all = Array.isArray(urls) ? (urls as readonly URL[]) : [urls as URL];
  const isTls = (url: URL): boolean => tlsSchemes.includes(url.protocol.replace(/:$/, ''));
  if (value === undefined) return all.some(isTls) ? { rejectUnauthorized: true } : undefined;
  const read = new OptionReader<TlsOptions>(errors, value, {
    what: 'tls',
    keys: Object.keys(TLS_OPTIONS),
    prefix: 'tls.',
  });
  const tls: TlsOptions = { rejectUnauthorized: TLS_OPTIONS.rejectUnauthorized(read) };
  for (const field of ['ca', 'cert', 'key'] as const) {
    const pem = TLS_OPTIONS[field](read);
    if (pem !== undefined) tls[field] = pem;
  }
  const passphrase = TLS_OPTIONS.passphrase(read);
  const servername = TLS_OPTIONS.servername(read);
  if (passphrase !== undefined) tls.passphrase = passphrase;
  if (servername !== undefined) tls.servername = servername;
  const plain = all.find((url) => !isTls(url));
  if (plain) {
    throw errors.invalid(
      `tls is only used with an ${tlsSchemes.map((s) => `${s}:`).join(' or ')} uri, got ${plain.protocol}`,
    );
  }
  return tls;
}

/** A PEM field: a string, a Buffer, or an array of them (own elements only). */
function readPem(read: OptionReader<TlsOptions>, field: 'ca' | 'cert' | 'key'): TlsOptions[typeof field] {
  const item = read.raw(field);
  if (item === undefined) return undefined;
  const items: unknown[] = Array.isArray(item)
    ? Array.from({ length: item.length }, (_, i) => (Object.hasOwn(item, i) ? item[i] : undefined))
    : [item];
  if (!items.every((one) => typeof one === 'string' || Buffer.isBuffer(one))) {
    throw read.fail(
      `tls.${field} must be a PEM string, a Buffer or an array of them, got ${describeValue(item)}`,
    );
  }
  return Array.isArray(item) ? (items as Array<string | Buffer>) : (item as string | Buffer);
}
