import { MqError, type MqErrorCode, type MqErrorOptions } from '../api/errors.js';

/**
 * The errors of one package, each message starting with its name (`[mq/amqp] prefetch must be ...`): made once
 * per package (`const errors = packageErrors('mq/amqp')`), so that no call site spells the prefix itself.
 */
export interface PackageErrors {
  /** The package name the messages start with, e.g. `mq/amqp`. */
  readonly pkg: string;
  /** An `INVALID_OPTIONS` error; `message` names the field and the rule. */
  invalid(message: string): MqError;
  /** An `INVALID_ARGUMENT` error; `message` names the argument and the rule. */
  argument(message: string): MqError;
  /** An error with any code. */
  error(code: MqErrorCode, message: string, options?: MqErrorOptions): MqError;
  /** Anything thrown, as an `MqError` (kept as `cause`) whose message says `context`; an `MqError` as it is. */
  wrap(value: unknown, code: MqErrorCode, context: string): MqError;
}

/** The {@link PackageErrors} of package `pkg` (e.g. `mq/amqp`). */
export function packageErrors(pkg: string): PackageErrors {
  const prefix = `[${pkg}] `;
  return Object.freeze({
    pkg,
    invalid: (message: string) => new MqError('INVALID_OPTIONS', prefix + message),
    argument: (message: string) => new MqError('INVALID_ARGUMENT', prefix + message),
    error: (code: MqErrorCode, message: string, options?: MqErrorOptions) =>
      new MqError(code, prefix + message, options),
    wrap: (value: unknown, code: MqErrorCode, context: string) => toMqError(value, code, prefix + context),
  });
}

/** Wraps anything thrown by a client library into an `MqError` (kept as `cause`), leaving `MqError`s as they are. */
export function toMqError(value: unknown, code: MqErrorCode, context: string): MqError {
  if (MqError.isInstance(value)) return value;
  return new MqError(code, `${context}: ${errorText(value)}`, { cause: value });
}

/**
 * The message of anything thrown, even of a value whose conversion to a string throws (a null-prototype object,
 * a revoked proxy).
 * @internal
 */
export function errorText(value: unknown): string {
  try {
    if (value instanceof Error) return value.message;
    return String(value);
  } catch {
    try {
      return Object.prototype.toString.call(value);
    } catch {
      // A revoked proxy throws even here.
      return 'an unreadable value';
    }
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

/**
 * True for a failure that repeats unchanged on every retry until something outside changes: those that need
 * attention, and `NOT_FOUND` (a queue the app attaches to, not there yet). A queue reports such a failure once per
 * change, not on every retry; unlike the others, `NOT_FOUND` does not end a `messages()` loop, as it may pass.
 */
export function reportedOnce(error: MqError): boolean {
  return needsAttention(error) || error.code === 'NOT_FOUND';
}
