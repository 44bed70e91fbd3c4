import type { TlsOptions } from '../../api/tls.js';
import { describeValue, invalid, readBoolean, readOptions, readString } from './options.js';

const TLS_KEYS = ['ca', 'cert', 'key', 'passphrase', 'servername', 'rejectUnauthorized'] as const;

/**
 * Validates the `tls` option: `undefined` when absent; else a fresh object with the given fields and
 * `rejectUnauthorized` (default true). Throws `INVALID_OPTIONS` when a field is wrong, or when the scheme of `url`
 * (or of any of several) is not one of `tlsSchemes` (TLS options on a plain-TCP URI would be ignored silently).
 */
export function readTlsOptions(
  pkg: string,
  value: unknown,
  url: URL | readonly URL[],
  tlsSchemes: readonly string[],
): TlsOptions | undefined {
  if (value === undefined) return undefined;
  const opts = readOptions(pkg, value, TLS_KEYS, 'tls');
  const tls: TlsOptions = { rejectUnauthorized: readBoolean(pkg, opts, 'rejectUnauthorized', true) };
  for (const field of ['ca', 'cert', 'key'] as const) {
    const item = opts[field];
    if (item === undefined) continue;
    const items = Array.isArray(item) ? item : [item];
    if (!items.every((v) => typeof v === 'string' || Buffer.isBuffer(v))) {
      throw invalid(
        pkg,
        `tls.${field} must be a PEM string, a Buffer or an array of them, got ${describeValue(item)}`,
      );
    }
    tls[field] = item as string | Buffer | Array<string | Buffer>;
  }
  const passphrase = readString(pkg, opts, 'passphrase');
  const servername = readString(pkg, opts, 'servername');
  if (passphrase !== undefined) tls.passphrase = passphrase;
  if (servername !== undefined) tls.servername = servername;
  for (const one of Array.isArray(url) ? url : [url]) {
    const scheme = one.protocol.replace(/:$/, '');
    if (!tlsSchemes.includes(scheme)) {
      throw invalid(
        pkg,
        `tls is only used with an ${tlsSchemes.map((s) => `${s}:`).join(' or ')} uri, got ${one.protocol}`,
      );
    }
  }
  return tls;
}
