/** The deliveries that reach a receiver after it began to close, so that its close can wait until they are settled. */
export class LateDeliveries {
  /** Messages delivered since the close began. */
  delivered = 0;
  /** One token per QoS 1 delivery not settled yet. */
  readonly #unsettled = new Set<object>();
  #wake: (() => void) | undefined;

  /** Counts one delivery; returns its `settle`, which also counts it settled (a QoS 1 one is waited for until then). */
  track(qos: number, settle: (requeue: boolean) => Promise<void>): (requeue: boolean) => Promise<void> {
    this.delivered += 1;
    const token = {};
    if (qos > 0) this.#unsettled.add(token);
    return (requeue) => {
      const settling = settle(requeue);
      this.#unsettled.delete(token);
      if (this.#unsettled.size === 0) this.#wake?.();
      return settling;
    };
  }

  /** Stops waiting for the messages delivered so far (their handlers have returned, settled or not). */
  forgetEarlier(): void {
    this.#unsettled.clear();
  }

  /** Resolves true once every tracked message is settled, false at `deadline`. */
  async settled(deadline: number): Promise<boolean> {
    while (this.#unsettled.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
    return true;
  }
}
