import type { Message } from '../../api/message.js';

/** A message waiting for its turn, and what starts its handler (a promise while the handler is still at work). */
interface Waiting {
  readonly key: string | undefined;
  readonly start: () => PromiseLike<unknown> | undefined;
}

/**
 * A receiver's `concurrency` and `orderingKey`: at most `limit` handlers at once, the others waiting in arrival
 * order; messages of one key one at a time, in order, while other keys go ahead. Nothing here settles messages:
 * those waiting stay unacked (and count against `prefetch`) until their turn.
 */
export class ConcurrencyGate {
  #limit: number;
  readonly #keyOf: ((message: Message<unknown>) => string | undefined) | undefined;
  #running = 0;
  #waiting: Waiting[] = [];
  readonly #busyKeys = new Set<string>();
  #dispatching = false;
  #again = false;

  /** `limit` undefined: no limit (only the order of each key). */
  constructor(limit: number | undefined, keyOf?: (message: Message<unknown>) => string | undefined) {
    this.#limit = limit ?? Number.POSITIVE_INFINITY;
    this.#keyOf = keyOf;
  }

  /** Handlers running now. */
  get running(): number {
    return this.#running;
  }

  /** Messages waiting for their turn. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** A new limit, from now on: more handlers start at once when it grew, none is stopped when it shrank. */
  setLimit(limit: number): void {
    this.#limit = limit;
    this.#dispatch();
  }

  /** `message` takes its turn: `start` runs now or once its key and a slot are free. */
  enter(message: Message<unknown>, start: () => PromiseLike<unknown> | undefined): void {
    this.#waiting.push({ key: this.#key(message), start });
    this.#dispatch();
  }

  /** Forgets the messages waiting (the receiver closes: they stay unacked, for the broker to hand out again). */
  clear(): void {
    this.#waiting = [];
  }

  #key(message: Message<unknown>): string | undefined {
    if (!this.#keyOf) return undefined;
    try {
      const key = this.#keyOf(message);
      return typeof key === 'string' ? key : undefined;
    } catch {
      return undefined;
    }
  }

  #dispatch(): void {
    // A handler that starts may bring the next delivery at once (an ack on the memory backend): that one is
    // queued behind those of this pass, which another pass then looks at.
    if (this.#dispatching) {
      this.#again = true;
      return;
    }
    this.#dispatching = true;
    try {
      do {
        this.#again = false;
        this.#pass();
      } while (this.#again);
    } finally {
      this.#dispatching = false;
    }
  }

  #pass(): void {
    if (this.#running >= this.#limit || this.#waiting.length === 0) return;
    const queue = this.#waiting;
    this.#waiting = [];
    const left: Waiting[] = [];
    // Keys seen waiting in this pass: a later message of a key whose earlier one still waits must not overtake it.
    const blocked = new Set<string>();
    for (const entry of queue) {
      const { key } = entry;
      const free =
        this.#running < this.#limit && (key === undefined || (!this.#busyKeys.has(key) && !blocked.has(key)));
      if (free) {
        this.#begin(entry);
        continue;
      }
      if (key !== undefined) blocked.add(key);
      left.push(entry);
    }
    this.#waiting = left.length === 0 ? this.#waiting : [...left, ...this.#waiting];
  }

  #begin({ key, start }: Waiting): void {
    this.#running += 1;
    if (key !== undefined) this.#busyKeys.add(key);
    let pending: PromiseLike<unknown> | undefined;
    try {
      pending = start();
    } catch {
      pending = undefined;
    }
    const done = (): void => {
      this.#running -= 1;
      if (key !== undefined) this.#busyKeys.delete(key);
      this.#dispatch();
    };
    if (pending === undefined) {
      // Finished at once: free the slot after this pass, so that one pass never starts more than the limit.
      queueMicrotask(done);
      return;
    }
    pending.then(done, done);
  }
}
