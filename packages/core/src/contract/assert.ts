import { MqError } from '../api/errors.js';

/** Thrown by a contract case whose expectation does not hold. */
export class ContractFailure extends Error {
  /** Creates a failure with a message that says what was expected and what was seen. */
  constructor(message: string) {
    super(message);
    this.name = 'ContractFailure';
  }
}

/** Fails unless `condition` holds. */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ContractFailure(message);
}

/** Fails unless `actual === expected`. */
export function checkEqual<T>(actual: T, expected: T, what: string): void {
  if (actual !== expected) {
    throw new ContractFailure(`${what}: expected ${show(expected)}, got ${show(actual)}`);
  }
}

/** Fails unless both arrays hold the same items in the same order. */
export function checkSameList<T>(actual: readonly T[], expected: readonly T[], what: string): void {
  const same = actual.length === expected.length && actual.every((item, i) => item === expected[i]);
  if (!same) throw new ContractFailure(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}

/** Fails unless both byte sequences are equal. */
export function checkSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  if (actual.length !== expected.length) {
    throw new ContractFailure(`${what}: expected ${expected.length} bytes, got ${actual.length}`);
  }
  for (let i = 0; i < expected.length; i += 1) {
    if (actual[i] !== expected[i]) {
      throw new ContractFailure(`${what}: byte ${i} differs: expected ${expected[i]}, got ${actual[i]}`);
    }
  }
}

/** Runs `action` and fails unless it throws (synchronously) an MqError with `code`; returns that error. */
export function checkThrowsCode(action: () => unknown, code: string, what: string): Error {
  try {
    action();
  } catch (error) {
    checkCode(error, code, what);
    return error as Error;
  }
  throw new ContractFailure(`${what}: expected a throw with code ${code}, but it did not throw`);
}

/** Fails unless `promise` rejects with an MqError with `code`; returns that error. A synchronous throw fails too. */
export async function checkRejectsCode(
  make: () => Promise<unknown>,
  code: string,
  what: string,
): Promise<Error> {
  let promise: Promise<unknown>;
  try {
    promise = make();
  } catch (error) {
    throw new ContractFailure(
      `${what}: expected a rejected promise with code ${code}, but it threw synchronously: ${String(error)}`,
    );
  }
  try {
    await promise;
  } catch (error) {
    checkCode(error, code, what);
    return error as Error;
  }
  throw new ContractFailure(`${what}: expected a rejection with code ${code}, but it resolved`);
}

/** Fails unless `error` is an MqError (by `isInstance`'s marker) with `code`. */
export function checkCode(error: unknown, code: string, what: string): void {
  if (!MqError.isInstance(error))
    throw new ContractFailure(`${what}: expected an MqError with code ${code}, got ${String(error)}`);
  if (error.code !== code) {
    throw new ContractFailure(`${what}: expected code ${code}, got ${error.code} (${error.message})`);
  }
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 300 ? `${text.slice(0, 300)}...` : text;
}
