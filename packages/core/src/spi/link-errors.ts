import type { MqErrorCode } from '../api/errors.js';

/** Socket error codes of a broker that cannot be reached. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_NONAME',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ETIMEDOUT',
  'EADDRNOTAVAIL',
]);

/** OpenSSL's certificate verification codes, as Node reports them on a rejected certificate. */
const CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
]);

/**
 * Node's TLS errors, and OpenSSL's own (`ERR_OSSL_BAD_DECRYPT`: a key that cannot be loaded), which retrying
 * cannot fix either.
 */
const TLS_CODE_PREFIXES = ['ERR_SSL_', 'ERR_TLS_', 'ERR_OSSL_'];

/** The `code` of `error` or of any error in its `cause` chain that has a string one. */
function socketCodes(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 8 && typeof current === 'object' && current !== null; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

/**
 * For backends: the mq error code that a failed connection attempt's Node socket or TLS error means, if it is
 * one: `UNREACHABLE` (refused, no such host, no route, timed out), `TLS_FAILED` (any TLS, OpenSSL or certificate
 * failure; and, when `tls` is true, a reset during the handshake, as a plain-TCP port gives one). Looks through
 * the `cause` chain. `undefined` when it is none of those (the backend then classifies the protocol's own).
 */
export function classifyLinkError(error: unknown, tls: boolean): MqErrorCode | undefined {
  for (const code of socketCodes(error)) {
    if (UNREACHABLE_CODES.has(code)) return 'UNREACHABLE';
    if (CERTIFICATE_CODES.has(code) || TLS_CODE_PREFIXES.some((prefix) => code.startsWith(prefix)))
      return 'TLS_FAILED';
    if (tls && (code === 'ECONNRESET' || code === 'EPIPE')) return 'TLS_FAILED';
  }
  return undefined;
}

/** True when a failed attempt's error is a reset or an abrupt close (`ECONNRESET`, `EPIPE`), anywhere in its causes. */
export function isLinkReset(error: unknown): boolean {
  return socketCodes(error).some((code) => code === 'ECONNRESET' || code === 'EPIPE');
}
