import { describeValue } from '../describe.js';
import type { PackageErrors } from '../errors.js';
import { isInstanceOf } from '../guards.js';

/** Checks a `sendMsg` payload: it must be a `Uint8Array` (a `Buffer` is one); `INVALID_ARGUMENT` otherwise. */
export function checkPayload(errors: PackageErrors, payload: unknown): Uint8Array {
  if (!isInstanceOf(payload, Uint8Array)) {
    throw errors.argument(`payload must be a Uint8Array or Buffer, got ${describeValue(payload)}`);
  }
  return payload;
}

/** Checks a message handler: a function; `INVALID_ARGUMENT` otherwise. */
export function checkHandler(errors: PackageErrors, handler: unknown): void {
  if (typeof handler !== 'function') {
    throw errors.argument(`handler must be a function, got ${describeValue(handler)}`);
  }
}
