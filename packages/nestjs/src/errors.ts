import { MqError, type MqErrorCode } from '@mq/core';

/** The prefix of every message this package writes, as each mq package names itself. */
const PKG = '[mq/nestjs]';

/** An `MqError` whose message names this package. */
export function nestError(code: MqErrorCode, message: string, cause?: unknown): MqError {
  return new MqError(code, `${PKG} ${message}`, cause === undefined ? {} : { cause });
}

/** `INVALID_OPTIONS` naming the field: `[mq/nestjs] queues must be an object, got 3`. */
export function invalidOption(message: string): MqError {
  return nestError('INVALID_OPTIONS', message);
}

/** A short description of a value for error messages (never its whole content). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'no prototype'})`;
  return `${typeof value} ${String(value)}`;
}

/**
 * What a Nest handler failed with, as an `Error` mq can report: Nest's exception filter turns a thrown error
 * into an `{ status: 'error', message }` object, whose message is kept.
 */
export function asError(failure: unknown): Error {
  if (failure instanceof Error) return failure;
  if (typeof failure === 'object' && failure !== null) {
    const { message } = failure as { message?: unknown };
    if (typeof message === 'string') return new Error(message);
    try {
      return new Error(JSON.stringify(failure));
    } catch {
      return new Error('the handler failed with an unprintable value');
    }
  }
  return new Error(String(failure));
}
