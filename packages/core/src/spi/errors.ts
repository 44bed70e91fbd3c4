import { MqError, type MqErrorCode } from '../api/errors.js';

/** Wraps anything thrown by a client library into an `MqError` (kept as `cause`), leaving `MqError`s as they are. */
export function toMqError(value: unknown, code: MqErrorCode, context: string): MqError {
  if (MqError.isInstance(value)) return value;
  return new MqError(code, `${context}: ${errorText(value)}`, { cause: value });
}

/**
 * The message of anything thrown, even of a value whose conversion to a string throws (a null-prototype object).
 * @internal
 */
export function errorText(value: unknown): string {
  if (value instanceof Error) return value.message;
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Codes of failures that retrying cannot fix by itself: someone must change a setting or the broker. */
const NEEDS_ATTENTION: ReadonlySet<MqErrorCode> = new Set<MqErrorCode>([
  'INVALID_OPTIONS',
  'AUTH_FAILED',
  'VHOST_REFUSED',
  'TLS_FAILED',
]);

/**
 * True for a failure that retrying cannot fix by itself (wrong credentials, a vhost or certificate refused, a
 * queue declared with other arguments): core reports such a failure once per change, not on every retry.
 * `PROTOCOL_MISMATCH` is not one: it is read from a reset, which a broker going down can also cause.
 */
export function needsAttention(error: MqError): boolean {
  return NEEDS_ATTENTION.has(error.code);
}
