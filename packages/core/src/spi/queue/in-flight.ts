import type { MqError } from '../../api/errors.js';
import { SETTLED } from '../message.js';

/**
 * One send on its way to the broker, handed to a backend's `publish()`: the backend calls `resolve()` once the
 * send is done (written, or confirmed on a reliable queue) or `reject(error)` when it failed. Only the first
 * call counts; later ones (a late confirm after a timeout, say) do nothing.
 */
export interface PendingSend {
  /** The send is done. */
  resolve(): void;
  /** The send failed with `error` (an `MqError`, so that the app can tell why). */
  reject(error: unknown): void;
  /** Settles as `sending` does: for a backend whose client library returns a promise. */
  follow(sending: PromiseLike<unknown>): void;
  /**
   * True once the send has settled (timed out, say): a backend holding it until it can write (a full socket
   * buffer) must then drop it, never write it late.
   */
  readonly settled: boolean;
}

const PENDING = 0;
const RESOLVED = 1;
const REJECTED = 2;

/** A {@link PendingSend} as {@link InFlightSends} keeps it. Costs no promise while `publish()` runs. */
class Send implements PendingSend {
  /** When the send times out, `performance.now()` based; set once it is watched. */
  deadline = 0;
  /** Counted by its {@link InFlightSends} (it did not finish inside `publish()`). */
  watched = false;
  /** Waiting in the queue for its link, not handed to the backend yet: a lost link does not fail it. */
  held = false;
  /** `PENDING`, `RESOLVED` or `REJECTED` (a field, not a getter: {@link InFlightSends} reads it per send). */
  state = PENDING;
  #error: unknown;
  #resolve: (() => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;
  readonly #onSettled: (send: Send) => void;

  constructor(onSettled: (send: Send) => void) {
    this.#onSettled = onSettled;
  }

  get settled(): boolean {
    return this.state !== PENDING;
  }

  resolve(): void {
    if (this.state !== PENDING) return;
    this.state = RESOLVED;
    this.#resolve?.();
    if (this.watched) this.#onSettled(this);
  }

  reject(error: unknown): void {
    if (this.state !== PENDING) return;
    this.state = REJECTED;
    this.#error = error;
    this.#reject?.(error);
    if (this.watched) this.#onSettled(this);
  }

  follow(sending: PromiseLike<unknown>): void {
    sending.then(
      () => this.resolve(),
      (error: unknown) => this.reject(error),
    );
  }

  /** The app's promise: `SETTLED` when already done, else one that settles with this send. */
  promise(): Promise<void> {
    if (this.state === RESOLVED) return SETTLED;
    if (this.state === REJECTED) return Promise.reject(this.#error);
    return new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }
}

/**
 * The sends of one queue that have not settled yet, oldest first. A send still unsettled `timeoutMillis` after
 * it started is rejected (the broker went silent: no reply, no closed socket), with one timer for all of them.
 * `allSettled()` resolves once none is left, for `close()`; `failAll()` rejects them all when their link is gone.
 */
export class InFlightSends {
  readonly #timeoutMillis: number;
  readonly #timedOut: (held: boolean) => MqError;
  #entries: Send[] = [];
  #head = 0;
  #count = 0;
  #timer: NodeJS.Timeout | undefined;
  #allSettledWaiters: Array<() => void> = [];
  /**
   * A watched send settled: moves the head past the settled sends (all of them once none is left) and wakes the
   * `allSettled()` waiters when none is.
   */
  readonly #onSettled = (): void => {
    this.#count -= 1;
    if (this.#count === 0) {
      this.#entries = [];
      this.#head = 0;
      // The timer is left to run out by itself (it is unref'd): clearing and re-arming it for every send
      // awaited one at a time would cost more than the send.
      if (this.#allSettledWaiters.length === 0) return;
      const waiters = this.#allSettledWaiters;
      this.#allSettledWaiters = [];
      for (const wake of waiters) wake();
      return;
    }
    const entries = this.#entries;
    while (this.#head < entries.length && entries[this.#head]!.state !== PENDING) this.#head += 1;
    if (this.#head > 1024 && this.#head * 2 > entries.length) {
      this.#entries = entries.slice(this.#head);
      this.#head = 0;
    }
  };

  /**
   * `timedOut` makes the error for a send that ran past the deadline (`held`: still waiting for its link, so
   * never sent).
   */
  constructor(timeoutMillis: number, timedOut: (held: boolean) => MqError) {
    this.#timeoutMillis = timeoutMillis;
    this.#timedOut = timedOut;
  }

  /** Sends not settled yet. */
  get size(): number {
    return this.#count;
  }

  /** A new send for a backend's `publish()`; call {@link InFlightSends.watch} once `publish()` returned. */
  begin(): PendingSend {
    return new Send(this.#onSettled);
  }

  /**
   * The app's promise for `send`: `SETTLED` when it is already done (no deadline, no count), else one that
   * settles with it or rejects at its deadline; until then it counts for `allSettled()` and `failAll()`.
   */
  watch(pending: PendingSend): Promise<void> {
    const send = pending as Send;
    if (send.state !== PENDING) return send.promise();
    send.deadline = performance.now() + this.#timeoutMillis;
    send.watched = true;
    this.#entries.push(send);
    this.#count += 1;
    if (!this.#timer) this.#arm();
    return send.promise();
  }

  /**
   * The app's promise for a send that waits for its link (see {@link InFlightSends.release}): its deadline runs
   * from now, and {@link InFlightSends.failAll} leaves it alone.
   */
  hold(pending: PendingSend): Promise<void> {
    (pending as Send).held = true;
    return this.watch(pending);
  }

  /** A held send goes to the backend's `publish()` now: from here a lost link fails it. */
  release(pending: PendingSend): void {
    (pending as Send).held = false;
  }

  /** Rejects every unsettled send with `error` (their link is gone: no answer can come); `held` ones too if asked. */
  failAll(error: MqError, held = false): void {
    const entries = this.#entries;
    for (let i = this.#head; i < entries.length; i += 1) {
      const send = entries[i]!;
      if (held || !send.held) send.reject(error);
    }
  }

  /** Resolves once every tracked send has settled (or timed out). */
  allSettled(): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    return new Promise((resolve) => this.#allSettledWaiters.push(resolve));
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
    // Each reject moves the head (see `#onSettled`): walk the array as it was.
    const entries = this.#entries;
    for (let i = this.#head; i < entries.length; i += 1) {
      const send = entries[i]!;
      if (send.state !== PENDING) continue;
      if (send.deadline > now) break;
      send.reject(this.#timedOut(send.held));
    }
    this.#arm();
  }
}
