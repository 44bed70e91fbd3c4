import { coreErrors } from '../spi/core-errors.js';
import { describeValue } from '../spi/describe.js';
import { errorText } from '../spi/errors.js';
import { isAbortSignal } from '../spi/guards.js';
import { readFields } from '../spi/options/validate.js';
import { MqError } from './errors.js';
import { MAX_TIMER_MILLIS } from './limits.js';
import { STATUSES, type Status } from './status.js';

/** Anything with a status and status events: a connection or a queue. */
export interface StatusSource {
  /** The current status. */
  readonly status: Status;
  /** Adds a status listener. */
  on(event: 'status', listener: (status: Status) => void): unknown;
  /** Removes a status listener. */
  off(event: 'status', listener: (status: Status) => void): unknown;
}

/** Options of {@link waitForStatus}. */
export interface WaitOptions {
  /**
   * Milliseconds to wait before rejecting with `TIMEOUT`; `Infinity` waits without a deadline.
   * @default 10000
   */
  timeoutMillis?: number;
  /** Cancels the wait; it then rejects with `ABORTED`. */
  signal?: AbortSignal;
}

/**
 * Resolves once `source` reaches `status` (at once if it is there already); rejects with `TIMEOUT` after
 * `timeoutMillis` (its `cause` the last error the source reported, if any: why it did not get there) or
 * `ABORTED` when `signal` fires. Leaves no timer or listener behind.
 */
export function waitForStatus(
  source: StatusSource,
  status: Status,
  options: WaitOptions = {},
): Promise<void> {
  let fields: Record<string, unknown>;
  try {
    fields = readFields(coreErrors, options, {
      what: 'waitForStatus options',
      keys: WAIT_KEYS,
      complaint: 'argument',
    });
  } catch (error) {
    return Promise.reject(error);
  }
  // Checked just below (checkWaitArguments) before it is used as one.
  const timeoutMillis = (fields.timeoutMillis ?? 10_000) as number;
  const signal = fields.signal as AbortSignal | undefined;
  const invalid = checkWaitArguments(source, status, timeoutMillis, signal);
  if (invalid) return Promise.reject(invalid);
  let current: Status;
  try {
    current = source.status;
  } catch (error) {
    return Promise.reject(unreadable(error));
  }
  if (current === status) return Promise.resolve();
  if (signal?.aborted) return Promise.reject(abortError(status, signal));
  return new Promise<void>((resolve, reject) => {
    const done = (error?: MqError): void => {
      clearTimeout(timer);
      // A source whose `off` throws must not turn a settled wait into an uncaught exception.
      try {
        source.off('status', onStatus);
      } catch {}
      signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve();
    };
    const onStatus = (next: Status): void => {
      if (next === status) done();
    };
    const onAbort = (): void => done(abortError(status, signal));
    const timer =
      timeoutMillis === Number.POSITIVE_INFINITY
        ? undefined
        : setTimeout(() => {
            const last = lastErrorOf(source);
            const why = last ? `; last error: ${last.code} ${last.message}` : '';
            done(
              coreErrors.error(
                'TIMEOUT',
                `status '${status}' not reached within ${timeoutMillis} ms (now '${statusOf(source)}')${why}`,
                last ? { cause: last } : {},
              ),
            );
          }, timeoutMillis);
    try {
      source.on('status', onStatus);
    } catch (error) {
      done(unreadable(error));
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Every field of `WaitOptions`. */
const WAIT_KEYS = Object.keys({ timeoutMillis: true, signal: true } as const satisfies Record<
  keyof WaitOptions,
  true
>);

function checkWaitArguments(
  source: unknown,
  status: unknown,
  timeoutMillis: unknown,
  signal: unknown,
): MqError | undefined {
  const bad = (message: string): MqError => coreErrors.argument(`waitForStatus: ${message}`);
  const s = source as Partial<StatusSource> | null;
  let listens: boolean;
  try {
    listens =
      typeof s === 'object' && s !== null && typeof s.on === 'function' && typeof s.off === 'function';
  } catch (error) {
    return unreadable(error);
  }
  if (!listens) return bad('source must be a connection or queue (with status, on and off)');
  if (!STATUSES.includes(status as Status))
    return bad(`status must be one of ${STATUSES.join(', ')}, got ${describeValue(status)}`);
  const infinite = timeoutMillis === Number.POSITIVE_INFINITY;
  if (
    !infinite &&
    (typeof timeoutMillis !== 'number' ||
      !Number.isInteger(timeoutMillis) ||
      timeoutMillis < 0 ||
      timeoutMillis > MAX_TIMER_MILLIS)
  ) {
    return bad(
      `timeoutMillis must be an integer from 0 to 2147483647 or Infinity, got ${describeValue(timeoutMillis)}`,
    );
  }
  if (signal !== undefined && !isAbortSignal(signal))
    return bad(`signal must be an AbortSignal, got ${describeValue(signal)}`);
  return undefined;
}

function abortError(status: Status, signal: AbortSignal | undefined): MqError {
  return coreErrors.error('ABORTED', `wait for status '${status}' was aborted`, { cause: signal?.reason });
}

/**
 * The source's own record of its last error (`BaseConnection` and `BaseQueue` keep one), if it has one. Read,
 * not listened for: an `error` listener added by a wait would change what a source without listeners does.
 */
function lastErrorOf(source: StatusSource): MqError | undefined {
  try {
    const last = (source as { lastError?: unknown }).lastError;
    return MqError.isInstance(last) ? last : undefined;
  } catch {
    return undefined;
  }
}

/** The source's status for a message, or `unreadable` when reading it throws (inside a timer, it must not). */
function statusOf(source: StatusSource): string {
  try {
    return String(source.status);
  } catch {
    return 'unreadable';
  }
}

/** A source that throws when read (a revoked proxy, a getter that throws): the typed error naming it. */
function unreadable(error: unknown): MqError {
  return coreErrors.argument(`waitForStatus: source could not be read: ${errorText(error)}`);
}
