import type { Status } from '../api/status.js';

/**
 * The legal transitions, in one place. `closed` -> `connecting` on `connect()`; `connecting` -> `connected` or
 * `disconnected` (attempt failed); `connected` -> `disconnected` (link lost); `disconnected` -> `connecting`
 * (retry); any open status -> `closing` -> `closed` on `close()`.
 */
export const TRANSITIONS: Readonly<Record<Status, readonly Status[]>> = {
  closed: ['connecting'],
  connecting: ['connected', 'disconnected', 'closing'],
  connected: ['disconnected', 'closing'],
  disconnected: ['connecting', 'closing'],
  closing: ['closed'],
};

/** True when `to` may follow `from`. */
export function canTransition(from: Status, to: Status): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Set `MQ_STRICT_STATUS=1` (this repository's tests do) to make an illegal transition throw instead of being ignored. */
const STRICT = typeof process !== 'undefined' && process.env.MQ_STRICT_STATUS === '1';

/**
 * For state machines: true when `from` -> `to` is legal. An illegal one is a bug in the caller: ignored (false)
 * in production, thrown in strict mode so that tests see it.
 */
export function checkTransition(from: Status, to: Status): boolean {
  if (canTransition(from, to)) return true;
  if (STRICT) throw new Error(`[mq/core] illegal status transition ${from} -> ${to}`);
  return false;
}

/**
 * One status and its `status` events, for a state machine. A change made while the previous one is being
 * emitted (a listener that calls `close()` on `disconnected`, say) is emitted only after that one has reached
 * every listener: each listener sees every change once, in order.
 */
export class StatusCell {
  #value: Status = 'closed';
  readonly #emit: (status: Status) => void;
  readonly #unsent: Status[] = [];
  #emitting = false;

  /** `emit` delivers one `status` event to the listeners. */
  constructor(emit: (status: Status) => void) {
    this.#emit = emit;
  }

  /** The current status (during an emission, possibly a later one than the event being delivered). */
  get value(): Status {
    return this.#value;
  }

  /** Moves to `next` and emits it; false (nothing happens) when it is the current status or not legal. */
  set(next: Status): boolean {
    if (next === this.#value || !checkTransition(this.#value, next)) return false;
    this.#value = next;
    this.#unsent.push(next);
    if (this.#emitting) return true;
    this.#emitting = true;
    try {
      for (let status = this.#unsent.shift(); status !== undefined; status = this.#unsent.shift()) {
        this.#emit(status);
      }
    } finally {
      this.#emitting = false;
    }
    return true;
  }
}
