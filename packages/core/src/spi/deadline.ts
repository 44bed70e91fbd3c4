/**
 * Settles like `promise`, or rejects with `onTimeout()` after `millis`, whichever comes first; the timer never
 * outlives the race. A value that arrives after the deadline goes to `onLate`, so that a connection or channel
 * opened too late can still be closed; a rejection after the deadline is dropped (nobody waits for it).
 */
export function withDeadline<T>(
  promise: PromiseLike<T>,
  millis: number,
  onTimeout: () => Error,
  onLate: (value: T) => void = () => {},
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      reject(onTimeout());
    }, millis);
    promise.then(
      (value) => {
        clearTimeout(timer);
        if (expired) onLate(value);
        else resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (!expired) reject(error);
      },
    );
  });
}

/** Waits for `promise` to settle, at most `millis`; never rejects. For best-effort steps of a close. */
export function settleWithin(promise: PromiseLike<unknown>, millis: number): Promise<void> {
  return withDeadline(promise, millis, () => new Error('timed out')).then(
    () => {},
    () => {},
  );
}
