/**
 * Holds a connection's socket reads while any of its receivers holds its `prefetch` of messages in the process:
 * mqtt.js handles one incoming packet at a time and reads the socket only once each is done, so a delayed
 * `handleMessage` callback stops every further delivery on the link (whatever the broker sends past its own
 * in-flight limit stays in the TCP buffers and at the broker). The acks go on flowing: they are writes.
 */
export class ReadGate {
  /** The receivers at their prefetch. */
  readonly #full = new Set<object>();
  /** Packet callbacks waiting for every receiver to be below its prefetch again. */
  #waiting: Array<() => void> = [];

  /** `owner` holds its prefetch of messages: reads stop after the packet being handled. */
  block(owner: object): void {
    this.#full.add(owner);
  }

  /** `owner` is below its prefetch again (or gone): reads go on once no receiver is full. */
  unblock(owner: object): void {
    if (!this.#full.delete(owner) || this.#full.size > 0) return;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const resume of waiting) resume();
  }

  /** Runs `resume` now when reads may go on, else once they may. */
  whenOpen(resume: () => void): void {
    if (this.#full.size === 0) resume();
    else this.#waiting.push(resume);
  }

  /** Opens the gate for good on the current link's end: what waits belongs to a dead link. */
  reset(): void {
    this.#full.clear();
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const resume of waiting) resume();
  }
}
