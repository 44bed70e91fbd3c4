import { MqError } from '../../api/errors.js';
import {
  DEFAULT_PREFETCH,
  MAX_QUEUE_NAME_LENGTH,
  MAX_TIMER_MILLIS,
  QUEUE_NAME_PATTERN,
} from '../../api/limits.js';
import type { QueueOptions } from '../../api/queue.js';
import { type FailurePolicyOptions, readFailurePolicy } from './failure-options.js';

/** Queue option names shared by every backend. */
export const QUEUE_OPTION_KEYS = [
  'name',
  'isRecv',
  'reliable',
  'broadcast',
  'reconnectMillis',
  'sendTimeoutMillis',
  'prefetch',
  // The failure policy's (see failure-options.ts), listed here so that no module cycle is read at load time.
  'retryDelayMillis',
  'maxDeliveries',
  'deadLetter',
  'ackTimeoutMillis',
] as const;

/** The shared queue options after validation, defaults filled in. */
export interface ResolvedQueueOptions {
  /** See {@link QueueOptions.name}. */
  name: string;
  /** See {@link QueueOptions.isRecv}. */
  isRecv: boolean;
  /** See {@link QueueOptions.reliable}. */
  reliable: boolean;
  /** See {@link QueueOptions.broadcast}. */
  broadcast: boolean;
  /** See {@link QueueOptions.reconnectMillis}. */
  reconnectMillis: number;
  /** See {@link QueueOptions.sendTimeoutMillis}. */
  sendTimeoutMillis: number;
  /** See {@link QueueOptions.prefetch}: {@link DEFAULT_PREFETCH} for a receiver that gave none, `undefined` for a sender. */
  prefetch: number | undefined;
  /** A receiver's failure policy (`retryDelayMillis`, `maxDeliveries`, `deadLetter`, `ackTimeoutMillis`); nothing for a sender. */
  failure: FailurePolicyOptions;
}

/** How a backend wants `prefetch` checked. */
export interface PrefetchRule {
  /**
   * Receivers must give it. Leave it `false`: apps move between backends, and one that needs `prefetch` where
   * the others default it breaks them.
   */
  required: boolean;
  /** Smallest allowed value. */
  min: number;
  /** Largest allowed value. */
  max: number;
}

/** Rejects anything that is not a plain options object, and any key not in `allowed` (catches typos). */
export function readOptions(
  pkg: string,
  value: unknown,
  allowed: readonly string[],
  what = 'options',
): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(pkg, `${what} must be an object, got ${describeValue(value)}`);
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!allowed.includes(key)) {
      throw invalid(pkg, `${what} has an unknown field '${key}'; known fields: ${allowed.join(', ')}`);
    }
  }
  return record;
}

/** Reads an optional boolean field. */
export function readBoolean(
  pkg: string,
  opts: Record<string, unknown>,
  field: string,
  fallback: boolean,
): boolean {
  const value = opts[field];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean')
    throw invalid(pkg, `${field} must be a boolean, got ${describeValue(value)}`);
  return value;
}

/** Reads an integer field within `[min, max]`; `fallback` when absent (`undefined` fallback means optional). */
export function readInteger(
  pkg: string,
  opts: Record<string, unknown>,
  field: string,
  range: { min: number; max: number },
  fallback?: number,
): number | undefined {
  const value = opts[field];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
    throw invalid(
      pkg,
      `${field} must be an integer from ${range.min} to ${range.max}, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** Reads an optional string field; `pattern` (with its human description) restricts it further. */
export function readString(
  pkg: string,
  opts: Record<string, unknown>,
  field: string,
  fallback?: string,
  pattern?: { regex: RegExp; rule: string },
): string | undefined {
  const value = opts[field];
  if (value === undefined) return fallback;
  if (typeof value !== 'string') throw invalid(pkg, `${field} must be a string, got ${describeValue(value)}`);
  if (pattern && !pattern.regex.test(value)) {
    throw invalid(pkg, `${field} must ${pattern.rule}, got ${describeValue(value)}`);
  }
  return value;
}

/** Reads a millisecond field, an integer from 1 to {@link MAX_TIMER_MILLIS}; `fallback` when absent. */
export function readMillis(
  pkg: string,
  opts: Record<string, unknown>,
  field: string,
  fallback: number,
): number {
  return readInteger(pkg, opts, field, { min: 1, max: MAX_TIMER_MILLIS }, fallback) as number;
}

/** Checks a queue name against {@link QUEUE_NAME_PATTERN} and {@link MAX_QUEUE_NAME_LENGTH}. */
export function checkQueueName(pkg: string, value: unknown): string {
  if (typeof value !== 'string') throw invalid(pkg, `name must be a string, got ${describeValue(value)}`);
  if (!QUEUE_NAME_PATTERN.test(value)) {
    throw invalid(
      pkg,
      `name must match ${QUEUE_NAME_PATTERN} (lower-case a-z, 0-9, '_' and '-' words joined by single dots), got ${describeValue(value)}`,
    );
  }
  if (value.length > MAX_QUEUE_NAME_LENGTH) {
    throw invalid(pkg, `name must be at most ${MAX_QUEUE_NAME_LENGTH} characters, got ${value.length}`);
  }
  return value;
}

/**
 * Validates the shared queue options (plus a backend's `extraKeys`, which it reads itself) and fills in
 * defaults. Throws `INVALID_OPTIONS` naming the field and the rule.
 */
export function resolveQueueOptions(
  pkg: string,
  input: unknown,
  prefetchRule: PrefetchRule,
  extraKeys: readonly string[] = [],
): ResolvedQueueOptions {
  const opts = readOptions(pkg, input, [...QUEUE_OPTION_KEYS, ...extraKeys], 'queue options');
  const name = checkQueueName(pkg, opts.name);
  if (typeof opts.isRecv !== 'boolean')
    throw invalid(pkg, `isRecv must be a boolean, got ${describeValue(opts.isRecv)}`);
  const isRecv = opts.isRecv;
  if (!isRecv && opts.prefetch !== undefined) {
    throw invalid(
      pkg,
      `prefetch is for receivers only (isRecv: true), got ${describeValue(opts.prefetch)} on a sender`,
    );
  }
  const given = readInteger(pkg, opts, 'prefetch', prefetchRule);
  if (isRecv && prefetchRule.required && given === undefined) {
    throw invalid(
      pkg,
      `prefetch is required for a receiver: an integer from ${prefetchRule.min} to ${prefetchRule.max}`,
    );
  }
  const prefetch = isRecv
    ? (given ?? Math.min(Math.max(DEFAULT_PREFETCH, prefetchRule.min), prefetchRule.max))
    : undefined;
  return {
    name,
    isRecv,
    reliable: readBoolean(pkg, opts, 'reliable', false),
    broadcast: readBoolean(pkg, opts, 'broadcast', false),
    reconnectMillis: readMillis(pkg, opts, 'reconnectMillis', 1000),
    sendTimeoutMillis: readMillis(pkg, opts, 'sendTimeoutMillis', 30_000),
    prefetch,
    failure: readFailurePolicy(pkg, opts, name, isRecv),
  };
}

/** Checks a `sendMsg` payload: it must be a `Uint8Array` (a `Buffer` is one). */
export function checkPayload(pkg: string, payload: unknown): Uint8Array {
  if (!(payload instanceof Uint8Array)) {
    throw new MqError(
      'INVALID_ARGUMENT',
      `[${pkg}] payload must be a Uint8Array or Buffer, got ${describeValue(payload)}`,
    );
  }
  return payload;
}

/** Checks a message handler. */
export function checkHandler(pkg: string, handler: unknown): void {
  if (typeof handler !== 'function') {
    throw new MqError(
      'INVALID_ARGUMENT',
      `[${pkg}] handler must be a function, got ${describeValue(handler)}`,
    );
  }
}

/** Builds an `INVALID_OPTIONS` error whose message starts with the package. */
export function invalid(pkg: string, message: string): MqError {
  return new MqError('INVALID_OPTIONS', `[${pkg}] ${message}`);
}

/** A short, safe description of a value for error messages (never dumps whole objects). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return String(value);
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    default:
      return describeObject(value as object);
  }
}

/** `an object` for a plain object, `an instance of Foo` for anything made by a class (a Buffer, a Date, ...). */
function describeObject(value: object): string {
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === null || proto === Object.prototype) return 'an object';
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' && name !== 'Object'
    ? `an instance of ${name}`
    : 'an object';
}

/** A URI with its password replaced by `***`, for errors, events and logs. */
export function redactUri(uri: string): string {
  try {
    const url = new URL(uri);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '<invalid uri>';
  }
}

/** Parses `uri` and checks its scheme is one of `schemes` (given without the colon). */
export function checkUri(pkg: string, field: string, value: unknown, schemes: readonly string[]): URL {
  if (typeof value !== 'string') throw invalid(pkg, `${field} must be a string, got ${describeValue(value)}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(
      pkg,
      `${field} must be a valid URI like ${schemes[0]}://host:port, got ${describeValue(redactUri(value))}`,
    );
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (!schemes.includes(scheme)) {
    throw invalid(
      pkg,
      `${field} scheme must be one of ${schemes.map((s) => `${s}:`).join(', ')}, got ${scheme}:`,
    );
  }
  return url;
}
