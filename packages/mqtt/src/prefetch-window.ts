import type { IPublishPacket } from 'mqtt';
import type { ReadGate } from './read-gate.js';

/**
 * A receiver's `prefetch`: how many of its messages are in the process (handed to core, not settled yet), and
 * those that wait their turn, in arrival order. At `prefetch` it holds the connection's reads (its read gate).
 */
export class PrefetchWindow {
  readonly #prefetch: number;
  readonly #gate: ReadGate;
  /** Delivers a waiting message now; false (nothing done) when its receiver takes nothing now. */
  readonly #deliver: (packet: IPublishPacket) => boolean;
  /** Messages in the process. */
  #inProcess = 0;
  /** Messages of the current link that came while the receiver held its prefetch, in arrival order. */
  #waiting: IPublishPacket[] = [];
  /** Counts the resets, so that a message of an earlier open settled late counts for nothing. */
  #resets = 0;
  /** True while this window holds the connection's reads (it blocked its read gate). */
  #blocking = false;

  /** `deliver` hands a waiting message to the receiver once it is its turn; `gate` holds the connection's reads. */
  constructor(prefetch: number, gate: ReadGate, deliver: (packet: IPublishPacket) => boolean) {
    this.#prefetch = prefetch;
    this.#gate = gate;
    this.#deliver = deliver;
  }

  /**
   * False when `packet` may be delivered now; else (at prefetch, or behind others: held ones handed over at once,
   * a nack's redelivery) it waits its turn, unacked, and the connection's reads stop.
   */
  waits(packet: IPublishPacket): boolean {
    if (this.#inProcess < this.#prefetch && this.#waiting.length === 0) return false;
    this.#waiting.push(packet);
    this.#block();
    return true;
  }

  /**
   * One more message in the process: at `prefetch`, the connection holds its reads until one is settled. Returns
   * what its settlement (ack or nack, whatever the outcome) passes through; a message taken before the last reset
   * no longer counts.
   */
  taken(): (settling: Promise<void>) => Promise<void> {
    this.#inProcess += 1;
    if (this.#inProcess >= this.#prefetch) this.#block();
    const resets = this.#resets;
    return (settling) => {
      if (resets === this.#resets) {
        this.#inProcess -= 1;
        if (this.#waiting.length > 0) this.#feed();
        if (this.#blocking && this.#inProcess < this.#prefetch && this.#waiting.length === 0) {
          this.#blocking = false;
          this.#gate.unblock(this);
        }
      }
      return settling;
    };
  }

  #block(): void {
    this.#blocking = true;
    this.#gate.block(this);
  }

  /** Hands waiting messages over while below prefetch, in arrival order. */
  #feed(): void {
    while (this.#waiting.length > 0 && this.#inProcess < this.#prefetch) {
      const packet = this.#waiting.shift() as IPublishPacket;
      if (!this.#deliver(packet)) {
        this.#waiting.unshift(packet);
        return;
      }
    }
  }

  /** The link dropped: what waits has packet ids that mean nothing on the next one. */
  forgetWaiting(): void {
    this.#waiting = [];
  }

  /**
   * The receiver is released: nothing counts as in the process any more, and reads go on. Returns what waited.
   */
  reset(): IPublishPacket[] {
    this.#inProcess = 0;
    this.#resets += 1;
    const waiting = this.#waiting;
    this.#waiting = [];
    this.#blocking = false;
    this.#gate.unblock(this);
    return waiting;
  }
}
