/**
 * Settles like `promise`, or rejects with `onTimeout()` after `millis`. A value that arrives after the deadline
 * goes to `onLate`, so that a connection or channel opened too late can still be closed.
 */
export function withDeadline<T>(
  promise: Promise<T>,
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
