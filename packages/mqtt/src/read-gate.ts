/**
 * Holds a connection's socket reads while any of its receivers holds its `prefetch` of messages in the process:
 * mqtt.js handles one incoming packet at a time and reads the socket only once each is done, so a delayed
 * `handleMessage` callback stops every further delivery on the link (whatever the broker sends past its own
 * in-flight limit stays in the TCP buffers and at the broker). The acks go on flowing: they are writes.
 */
export class ReadGate {
  /** The receivers at their prefetch. */
  readonly #full = new Set<object>();
  /** Told when reads stop (true) and go on again (false). */
  readonly #onHeld: (held: boolean) => void;

  /** `onHeld` hears when reads stop and when they go on again. */
  constructor(onHeld: (held: boolean) => void = () => {}) {
    this.#onHeld = onHeld;
  }
  /** Packet callbacks waiting for every receiver to be below its prefetch again. */
  #waiting: Array<() => void> = [];

  /** True while reads are held. */
  get held(): boolean {
    return this.#full.size > 0;
  }

  /** `owner` holds its prefetch of messages: reads stop after the packet being handled. */
  block(owner: object): void {
    if (this.#full.has(owner)) return;
    this.#full.add(owner);
    if (this.#full.size === 1) this.#onHeld(true);
  }

  /** `owner` is below its prefetch again (or gone): reads go on once no receiver is full. */
  unblock(owner: object): void {
    if (!this.#full.delete(owner) || this.#full.size > 0) return;
    this.#onHeld(false);
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
    if (this.#full.size > 0) this.#onHeld(false);
    this.#full.clear();
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const resume of waiting) resume();
  }
}
