import type { MqError } from '@mq/core/spi';
import { errors } from './errors.js';

/** Messages dropped for one closed topic within this long after the first are reported in one `error` event. */
const DROP_REPORT_MILLIS = 100;

/**
 * The late messages of closed topics (acked and dropped on a clean session, kept unacked on a persistent one),
 * counted per topic and reported in one `error` per topic: after `DROP_REPORT_MILLIS`, or when the link ends.
 */
export class DropReports {
  readonly #report: (error: MqError) => void;
  readonly #persistent: boolean;
  /** Late messages per topic, not yet reported. */
  readonly #dropped = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;

  /** `report` emits an `error` on the connection; `persistent` is true for `cleanSession: false`. */
  constructor(report: (error: MqError) => void, persistent: boolean) {
    this.#report = report;
    this.#persistent = persistent;
  }

  /** Counts one late message of `topic`; the report follows within `DROP_REPORT_MILLIS`. */
  count(topic: string): void {
    this.#dropped.set(topic, (this.#dropped.get(topic) ?? 0) + 1);
    this.#timer ??= setTimeout(() => this.report(), DROP_REPORT_MILLIS).unref();
  }

  /** Reports the drops counted so far, one `error` per topic. */
  report(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const dropped = [...this.#dropped];
    this.#dropped.clear();
    for (const [topic, count] of dropped) {
      this.#report(
        errors.error(
          'BROKER',
          this.#persistent
            ? `${count} message(s) for '${topic}' came after its receiver closed (the broker had already assigned them to this session); kept unacked for the persistent session: a receiver of '${topic}' opened on this connection takes them, else the session's next connection gets them again. Until then they hold places in this connection's in-flight window`
            : `${count} message(s) for '${topic}' arrived after its receiver closed (the broker had already assigned them to this session); acked and dropped`,
        ),
      );
    }
  }
}
