import { MqError } from './errors.js';
import type { Status } from './status.js';

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
   * Milliseconds to wait before rejecting with `TIMEOUT`.
   * @default 10000
   */
  timeoutMillis?: number;
  /** Cancels the wait; it then rejects with `ABORTED`. */
  signal?: AbortSignal;
}

/**
 * Resolves once `source` reaches `status` (at once if it is there already); rejects with `TIMEOUT` after
 * `timeoutMillis` or `ABORTED` when `signal` fires. Leaves no timer or listener behind.
 */
export function waitForStatus(
  source: StatusSource,
  status: Status,
  options: WaitOptions = {},
): Promise<void> {
  const timeoutMillis = options.timeoutMillis ?? 10_000;
  const { signal } = options;
  if (source.status === status) return Promise.resolve();
  if (signal?.aborted) return Promise.reject(abortError(status, signal));
  return new Promise<void>((resolve, reject) => {
    const done = (error?: MqError): void => {
      clearTimeout(timer);
      source.off('status', onStatus);
      signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve();
    };
    const onStatus = (next: Status): void => {
      if (next === status) done();
    };
    const onAbort = (): void => done(abortError(status, signal));
    const timer = setTimeout(
      () =>
        done(
          new MqError(
            'TIMEOUT',
            `[mq] status '${status}' not reached within ${timeoutMillis} ms (now '${source.status}')`,
          ),
        ),
      timeoutMillis,
    );
    source.on('status', onStatus);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortError(status: Status, signal: AbortSignal | undefined): MqError {
  return new MqError('ABORTED', `[mq] wait for status '${status}' was aborted`, { cause: signal?.reason });
}
