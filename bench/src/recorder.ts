import { ioSince, ioSnapshot, type RoundIo } from './io-count.js';
import { readPayload } from './payload.js';

/** What one run measured. */
export interface RunResult {
  /** Deliveries per second, from the first send to the last delivery. */
  msgsPerSec: number;
  /** Seconds from the first send to the last delivery. */
  seconds: number;
  /**
   * Sends settled per second, from the first send to the last one settled: the sender's own pace (for best
   * effort it can be far above the delivery rate, the broker queueing the rest).
   */
  sendsPerSec: number;
  /** Median latency, ms. */
  p50: number;
  /** 99th percentile latency, ms. */
  p99: number;
  /** Highest RSS seen during the run minus RSS at its start, MiB. */
  rssGrowthMiB: number;
  /** Expected deliveries that never came. */
  lost: number;
  /** Deliveries of a (receiver, message) pair seen before. */
  duplicated: number;
  /** Sends that rejected. */
  sendFailures: number;
  /**
   * CPU time (user + system) of this process per expected delivery, µs: sender, receivers and harness together.
   * Unlike msgs/s it barely depends on what else the machine runs, so it shows a client's own cost.
   */
  cpuMicrosPerMsg: number;
  /** With `--io`: socket writes and reads per message (see `src/io-count.ts`). */
  io?: RoundIo;
}

/** Counts deliveries per receiver, latencies, duplicates and RSS during one run. */
export class Recorder {
  readonly #latencies: number[] = [];
  readonly #seen: Array<Set<number>>;
  #duplicated = 0;
  #deliveries = 0;
  #lastDelivery = 0;
  #started = 0;
  #sendsSettled = 0;
  #rssStart = 0;
  #rssPeak = 0;
  #cpuStart: NodeJS.CpuUsage | undefined;
  #ioStart = ioSnapshot();
  #sampler: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;

  readonly #first: number;
  readonly #end: number;

  /** For `receivers` receivers, counting the messages numbered `first` to `first + count - 1`. */
  constructor(receivers: number, first: number, count: number) {
    this.#seen = Array.from({ length: receivers }, () => new Set<number>());
    this.#first = first;
    this.#end = first + count;
  }

  /** Deliveries so far. */
  get deliveries(): number {
    return this.#deliveries;
  }

  /** Marks the start of sending and starts sampling RSS. */
  start(): void {
    this.#rssStart = process.memoryUsage.rss();
    this.#rssPeak = this.#rssStart;
    this.#sampler = setInterval(() => {
      this.#rssPeak = Math.max(this.#rssPeak, process.memoryUsage.rss());
    }, 20);
    this.#cpuStart = process.cpuUsage();
    this.#ioStart = ioSnapshot();
    this.#started = performance.now();
  }

  /** Marks the moment the last send settled. */
  sendsDone(): void {
    this.#sendsSettled = performance.now();
  }

  /** Records one delivery to receiver `index`. */
  record(index: number, payload: Buffer): void {
    const now = performance.now();
    const { seq, sentAt } = readPayload(payload);
    // A message of an earlier round that arrived after that round gave up on it: counted lost there already.
    if (seq < this.#first || seq >= this.#end) return;
    const seen = this.#seen[index]!;
    if (seen.has(seq)) {
      this.#duplicated += 1;
      return;
    }
    seen.add(seq);
    this.#deliveries += 1;
    this.#lastDelivery = now;
    this.#latencies.push(now - sentAt);
    this.#wake?.();
  }

  /** Resolves once `expected` deliveries came, or when no delivery came for `stallMillis`. */
  async waitFor(expected: number, stallMillis = 5000): Promise<void> {
    let last = this.#deliveries;
    let lastChange = performance.now();
    while (this.#deliveries < expected) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.#wake = () => {
          if (this.#deliveries >= expected) {
            clearTimeout(timer);
            resolve();
          }
        };
      });
      if (this.#deliveries !== last) {
        last = this.#deliveries;
        lastChange = performance.now();
      } else if (performance.now() - lastChange > stallMillis) {
        return;
      }
    }
  }

  /** Stops sampling and summarises. */
  finish(expected: number, sent: number, sendFailures: number): RunResult {
    const cpu = process.cpuUsage(this.#cpuStart);
    clearInterval(this.#sampler);
    this.#rssPeak = Math.max(this.#rssPeak, process.memoryUsage.rss());
    const sorted = Float64Array.from(this.#latencies).sort();
    const at = (q: number): number =>
      sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    const seconds = (this.#lastDelivery - this.#started) / 1000;
    const io = ioSince(this.#ioStart, sent, this.#deliveries);
    return {
      ...(io ? { io } : {}),
      msgsPerSec: seconds > 0 ? this.#deliveries / seconds : 0,
      seconds,
      sendsPerSec: sent / ((this.#sendsSettled - this.#started) / 1000),
      p50: at(0.5),
      p99: at(0.99),
      rssGrowthMiB: (this.#rssPeak - this.#rssStart) / 1024 / 1024,
      lost: expected - this.#deliveries,
      duplicated: this.#duplicated,
      sendFailures,
      cpuMicrosPerMsg: (cpu.user + cpu.system) / Math.max(expected, 1),
    };
  }
}
