/** The settings of a {@link Backoff}, already validated. */
export interface BackoffSettings {
  /** The first delay, and the least any delay can be. */
  reconnectMillis: number;
  /** The most any delay can be; at least `reconnectMillis`. */
  reconnectMaxMillis: number;
}

/** A later delay is drawn from the top fifth of its range, so that clients that lost the same broker spread out. */
const JITTER = 0.2;

/**
 * Capped exponential backoff with jitter, for reconnection attempts: the first delay after a reset is exactly
 * `reconnectMillis` (a lost link comes back quickly), each later one doubles, up to `reconnectMaxMillis`, and
 * is drawn from the upper fifth of its value (`[0.8, 1]` times it, never below `reconnectMillis`).
 */
export class Backoff {
  readonly #settings: BackoffSettings;
  readonly #random: () => number;
  #failures = 0;

  /** `random` returns a number in `[0, 1)`, like `Math.random` (the default). */
  constructor(settings: BackoffSettings, random: () => number = () => Math.random()) {
    this.#settings = settings;
    this.#random = random;
  }

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    const { reconnectMillis, reconnectMaxMillis } = this.#settings;
    // 2 ** 31 already exceeds every allowed maximum: no need to count further (and no Infinity).
    const step = Math.min(this.#failures, 31);
    this.#failures += 1;
    const ceiling = Math.min(reconnectMaxMillis, reconnectMillis * 2 ** step);
    if (step === 0) return ceiling;
    const jittered = Math.round(ceiling * (1 - JITTER * this.#random()));
    return Math.max(reconnectMillis, Math.min(jittered, reconnectMaxMillis));
  }

  /** Starts over: the next delay is `reconnectMillis` again. */
  reset(): void {
    this.#failures = 0;
  }
}
