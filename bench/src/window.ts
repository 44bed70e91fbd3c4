/**
 * Keeps up to `size` sends in flight: O(1) per send, so the harness costs both clients the same little (a
 * Promise.race over the whole window would cost O(size) per send and blur the ratio).
 */
export class SendWindow {
  readonly #size: number;
  #inFlight = 0;
  #wake: (() => void) | undefined;

  constructor(size: number) {
    this.#size = size;
  }

  /** Starts `sending`, counts it until it settles (`onError` sees a rejection), then waits for room if full. */
  async add(sending: Promise<void>, onError: (error: unknown) => void): Promise<void> {
    this.#inFlight += 1;
    sending.then(this.#settled, (error: unknown) => {
      onError(error);
      this.#settled();
    });
    if (this.#inFlight >= this.#size) await new Promise<void>((resolve) => (this.#wake = resolve));
  }

  /** Resolves once every send has settled. */
  async drain(): Promise<void> {
    while (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#wake = resolve));
  }

  readonly #settled = (): void => {
    this.#inFlight -= 1;
    const resume = this.#wake;
    this.#wake = undefined;
    resume?.();
  };
}
