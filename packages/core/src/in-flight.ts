import type { MqError } from './errors.js';

interface Entry {
  deadline: number;
  reject: (error: MqError) => void;
  done: boolean;
}

/**
 * The sends of one queue that have not settled yet, oldest first. A send still unsettled `timeoutMillis` after
 * it started is rejected (the broker went silent: no reply, no closed socket), with one timer for all of them.
 * `drained()` resolves once none is left, for `close()`.
 */
export class InFlightSends {
  readonly #timeoutMillis: number;
  readonly #timedOut: () => MqError;
  #entries: Entry[] = [];
  #head = 0;
  #count = 0;
  #timer: NodeJS.Timeout | undefined;
  #drained: Array<() => void> = [];

  /** `timedOut` makes the error for a send that ran past the deadline. */
  constructor(timeoutMillis: number, timedOut: () => MqError) {
    this.#timeoutMillis = timeoutMillis;
    this.#timedOut = timedOut;
  }

  /** Sends not settled yet. */
  get size(): number {
    return this.#count;
  }

  /** Tracks `sending`; the returned promise settles as it does, or rejects at the deadline, whichever is first. */
  track(sending: Promise<void>): Promise<void> {
    const entry: Entry = { deadline: performance.now() + this.#timeoutMillis, reject: () => {}, done: false };
    const tracked = new Promise<void>((resolve, reject) => {
      entry.reject = reject;
      sending.then(
        () => {
          if (this.#finish(entry)) resolve();
        },
        (error: unknown) => {
          if (this.#finish(entry)) reject(error);
        },
      );
    });
    this.#entries.push(entry);
    this.#count += 1;
    if (!this.#timer) this.#arm();
    return tracked;
  }

  /** Resolves once every tracked send has settled (or timed out). */
  drained(): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  /** Marks an entry settled; false if it had already timed out. */
  #finish(entry: Entry): boolean {
    if (entry.done) return false;
    entry.done = true;
    this.#count -= 1;
    this.#compact();
    return true;
  }

  #compact(): void {
    while (this.#head < this.#entries.length && this.#entries[this.#head]!.done) this.#head += 1;
    if (this.#head === this.#entries.length) {
      this.#entries = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
    if (this.#count === 0) {
      // The timer is left to run out by itself (it is unref'd): clearing and re-arming it for every send
      // awaited one at a time would cost more than the send.
      const waiters = this.#drained;
      this.#drained = [];
      for (const wake of waiters) wake();
    }
  }

  #arm(): void {
    const oldest = this.#entries[this.#head];
    if (!oldest) {
      this.#timer = undefined;
      return;
    }
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, oldest.deadline - performance.now()));
    // A pending send is kept alive by its socket, not by its deadline.
    this.#timer.unref();
  }

  #expire(): void {
    this.#timer = undefined;
    const now = performance.now();
    for (let i = this.#head; i < this.#entries.length; i += 1) {
      const entry = this.#entries[i]!;
      if (entry.done) continue;
      if (entry.deadline > now) break;
      entry.done = true;
      this.#count -= 1;
      entry.reject(this.#timedOut());
    }
    this.#compact();
    this.#arm();
  }
}
