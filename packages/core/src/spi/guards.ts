// Type checks that hold against hostile values: `instanceof` asks a proxy for its prototype, and a revoked one
// throws a raw TypeError there instead of letting the caller answer with its typed error.

/** `value instanceof type`, and false for a value that throws when asked (a revoked proxy). */
export function isInstanceOf<T>(value: unknown, type: abstract new (...args: never[]) => T): value is T {
  try {
    return value instanceof type;
  } catch {
    return false;
  }
}

/**
 * A real `AbortSignal`: an instance whose `aborted` can be read. One made with `Object.create(AbortSignal.prototype)`
 * passes `instanceof` but throws on every use.
 */
export function isAbortSignal(value: unknown): value is AbortSignal {
  try {
    return value instanceof AbortSignal && typeof value.aborted === 'boolean';
  } catch {
    return false;
  }
}
