import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { MqError } from '../../api/errors.js';
import type { TlsOptions } from '../../api/tls.js';
import { describeValue } from '../describe.js';
import { errorText, type PackageErrors } from '../errors.js';
import { OptionReader, type ReaderTable } from './validate.js';

/**
 * What a client library's TLS connect takes, made from validated `tls` options: never a key, a passphrase or a PEM
 * text, so that nothing a client keeps (Node's TLS socket keeps a copy of its options) can show them.
 */
export interface TlsConnectOptions {
  /**
   * The CAs, the client certificate and the decrypted key, loaded once into OpenSSL when the options were
   * validated; absent when none was given (Node's default CAs).
   */
  readonly secureContext?: SecureContext;
  /** See {@link TlsOptions.servername}. */
  readonly servername?: string;
  /** See {@link TlsOptions.rejectUnauthorized}: always an own field, default true. */
  readonly rejectUnauthorized: boolean;
}

/** The `tls` option after validation. */
export interface ResolvedTls {
  /** Spread it into the client library's TLS options. */
  readonly connect: TlsConnectOptions;
  /** True when `tls.cert` and `tls.key` were both given (mutual TLS). */
  readonly clientCertificate: boolean;
}

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
 * Validates the `tls` option for `urls` (or one URL). The CAs, client certificate and key are loaded at once into
 * a secure context (so that a wrong passphrase, a key that does not match the certificate or a PEM that is not
 * one is an `INVALID_OPTIONS` naming the field now, not a failure of every connection attempt), and only that
 * context, `servername` and `rejectUnauthorized` (default true, always an own field) are returned. When `tls` is
 * absent it is `{ rejectUnauthorized: true }` if any URI is of one of `tlsSchemes` (so that nothing inherited can
 * decide), else `undefined`. Throws `INVALID_OPTIONS` when a field is wrong, or when `tls` is given and a URI is
 * not a TLS one (the options would be ignored silently). Never echoes a key, a passphrase or a PEM.
 */
export function readTlsOptions(
  errors: PackageErrors,
  value: unknown,
  urls: URL | readonly URL[],
  tlsSchemes: readonly string[],
): ResolvedTls | undefined {
  const all = Array.isArray(urls) ? (urls as readonly URL[]) : [urls as URL];
  const isTls = (url: URL): boolean => tlsSchemes.includes(url.protocol.replace(/:$/, ''));
  if (value === undefined) {
    return all.some(isTls)
      ? Object.freeze({ connect: Object.freeze({ rejectUnauthorized: true }), clientCertificate: false })
      : undefined;
  }
  const read = new OptionReader<TlsOptions>(errors, value, {
    what: 'tls',
    keys: Object.keys(TLS_OPTIONS),
    prefix: 'tls.',
  });
  const rejectUnauthorized = TLS_OPTIONS.rejectUnauthorized(read);
  const material: Material = {};
  for (const field of ['ca', 'cert', 'key'] as const) {
    const pem = TLS_OPTIONS[field](read);
    if (pem !== undefined) material[field] = pem;
  }
  const passphrase = TLS_OPTIONS.passphrase(read);
  if (passphrase !== undefined) material.passphrase = passphrase;
  const servername = TLS_OPTIONS.servername(read);
  const plain = all.find((url) => !isTls(url));
  if (plain) {
    throw errors.invalid(
      `tls is only used with an ${tlsSchemes.map((s) => `${s}:`).join(' or ')} uri, got ${plain.protocol}`,
    );
  }
  const loaded = Object.keys(material).length > 0;
  const connect: TlsConnectOptions = Object.freeze({
    ...(loaded ? { secureContext: secureContextOf(read, material) } : {}),
    ...(servername === undefined ? {} : { servername }),
    rejectUnauthorized,
  });
  return Object.freeze({
    connect,
    clientCertificate: material.cert !== undefined && material.key !== undefined,
  });
}

/** The secret and PEM fields of `tls`, as given. */
type Material = Pick<TlsOptions, 'ca' | 'cert' | 'key' | 'passphrase'>;

/**
 * The secure context of `material`, or the typed error naming the field that is wrong (found by loading each part
 * alone). OpenSSL's own words are kept (they never hold the value); the value is never shown.
 */
function secureContextOf(read: OptionReader<TlsOptions>, material: Material): SecureContext {
  checkCa(read, material.ca);
  try {
    return createSecureContext(material);
  } catch (whole) {
    throw wrongTlsField(read, material, whole);
  }
}

/**
 * Each `tls.ca` item must hold a certificate: Node skips what it cannot parse, so a wrong file would otherwise
 * leave no CA trusted, and every connection would fail its certificate check for a reason no error names.
 */
function checkCa(read: OptionReader<TlsOptions>, ca: Material['ca']): void {
  if (ca === undefined) return;
  const items = Array.isArray(ca) ? ca : [ca];
  items.forEach((item, i) => {
    try {
      new X509Certificate(item);
    } catch {
      const which = Array.isArray(ca) ? `tls.ca[${i}]` : 'tls.ca';
      throw read.fail(`${which} must be a PEM certificate (of a CA); it holds none`);
    }
  });
}

function wrongTlsField(read: OptionReader<TlsOptions>, material: Material, whole: unknown): MqError {
  const { cert, key, passphrase } = material;
  const failure = (options: Material): unknown => {
    try {
      createSecureContext(options);
      return undefined;
    } catch (error) {
      return error;
    }
  };
  const certError = cert === undefined ? undefined : failure({ cert });
  if (certError !== undefined) {
    return read.fail(`tls.cert must be a PEM certificate chain (${opensslReason(certError)})`);
  }
  const keyError =
    key === undefined ? undefined : failure(passphrase === undefined ? { key } : { key, passphrase });
  if (keyError !== undefined) {
    // Decrypting with a wrong or no passphrase yields noise whose padding passes now and then (1 in 256): OpenSSL
    // then fails to decode it ('unsupported') instead of 'bad decrypt'. An encrypted PEM says so in its header.
    if (codeOf(keyError) === 'ERR_OSSL_BAD_DECRYPT' || isEncryptedPem(key)) {
      return read.fail(
        passphrase === undefined
          ? 'tls.key is encrypted: give its tls.passphrase'
          : `tls.passphrase does not decrypt tls.key (${opensslReason(keyError)})`,
      );
    }
    return read.fail(`tls.key must be a PEM private key (${opensslReason(keyError)})`);
  }
  if (codeOf(whole) === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH') {
    return read.fail('tls.key does not match tls.cert: they must be the two halves of one key pair');
  }
  return read.fail(`tls could not be loaded (${opensslReason(whole)})`);
}

/** True when a PEM key (or any of several) is encrypted: `ENCRYPTED PRIVATE KEY` or a `Proc-Type: 4,ENCRYPTED` header. */
function isEncryptedPem(key: Material['key']): boolean {
  const parts: unknown[] = Array.isArray(key) ? key : [key];
  return parts.some((part) => {
    const pem =
      typeof part === 'object' && part !== null && 'pem' in part ? (part as { pem: unknown }).pem : part;
    const text = typeof pem === 'string' ? pem : Buffer.isBuffer(pem) ? pem.toString('latin1') : '';
    return /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: *4, *ENCRYPTED/.test(text);
  });
}

function codeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

/** OpenSSL's reason (`bad decrypt`, `no start line`), which names the failure and never the data. */
function opensslReason(error: unknown): string {
  const reason =
    typeof error === 'object' && error !== null ? (error as { reason?: unknown }).reason : undefined;
  const code = codeOf(error);
  return [typeof reason === 'string' ? reason : undefined, typeof code === 'string' ? code : undefined]
    .filter((part) => part !== undefined)
    .join(', ');
}

/** A PEM field: a string, a Buffer, or an array of them (own elements only). */
function readPem(read: OptionReader<TlsOptions>, field: 'ca' | 'cert' | 'key'): TlsOptions[typeof field] {
  const item = read.raw(field);
  if (item === undefined) return undefined;
  let items: unknown[];
  let valid: boolean;
  try {
    items = Array.isArray(item)
      ? Array.from({ length: item.length }, (_, i) => (Object.hasOwn(item, i) ? item[i] : undefined))
      : [item];
    valid = items.every((one) => typeof one === 'string' || Buffer.isBuffer(one));
  } catch (error) {
    // A revoked proxy, or an array whose element getter throws.
    throw read.fail(`tls.${field} could not be read: ${errorText(error)}`);
  }
  if (!valid) {
    throw read.fail(
      `tls.${field} must be a PEM string, a Buffer or an array of them, got ${describeValue(item)}`,
    );
  }
  return Array.isArray(item) ? (items as Array<string | Buffer>) : (item as string | Buffer);
}
