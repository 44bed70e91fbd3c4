import type { MqError } from '../../api/errors.js';
import { headersWithout, idsOf, MQ_HEADERS } from '../../api/mq-headers.js';
import type { SendOptions } from '../../api/send-options.js';
import { errorText, type PackageErrors } from '../errors.js';
import type { SettleOnceMessage } from '../message.js';
import type { FailurePolicyOptions } from '../options/failure-options.js';

/** The longest last-error text a dead letter carries, in characters. */
const MAX_ERROR_HEADER_CHARS = 1000;

/** The least wait before trying again to move a message whose move to the dead-letter queue failed. */
const MIN_DEAD_LETTER_RETRY_MILLIS = 1000;

/** What the failure policy needs of its receiver. */
export interface PolicyHost {
  /** The package's errors. */
  readonly errors: PackageErrors;
  /** The queue name. */
  readonly name: string;
  /** True when `republish(undefined, ...)` puts a copy behind the messages waiting for this receiver. */
  readonly requeuesBehind: boolean;
  /** Publishes a copy of `message`, confirmed, to this receiver's own source (`to` undefined) or to unicast queue `to`. */
  republish(to: string | undefined, message: SettleOnceMessage, options: SendOptions): Promise<void>;
  /** Emits an `error` on the queue. */
  report(error: MqError): void;
}

/** Settles a message the policy took over: `false` acks, `true` nacks (see `SettleOnceMessage.claim`). */
type Settle = (requeue: boolean) => Promise<void>;

/**
 * What a receiver does when a handler fails: hand the message out again after `retryDelayMillis` (a copy
 * published behind the others, confirmed before the original is acked, where the backend can; else a nack once
 * the delay is over), give up after `maxDeliveries` (to `deadLetter`, or dropped), treat a message left unsettled
 * for `ackTimeoutMillis` as failed, and hold a retried copy that arrives before its time. Once it acts on a
 * message it owns it: the handler's own later ack or nack does nothing.
 */
export class FailurePolicy {
  readonly #options: FailurePolicyOptions;
  readonly #host: PolicyHost;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #moving = new Set<Promise<void>>();
  #stopped = false;
  /** True while a `messages()` loop reads the receiver: the ack deadline starts when the loop takes a message. */
  #deferAckDeadlines = false;

  /** `options` are the receiver's, validated. */
  constructor(options: FailurePolicyOptions, host: PolicyHost) {
    this.#options = options;
    this.#host = host;
  }

  /**
   * Hands `message` to `run` (the handler): now, once a retried copy's time has come, or never when it was
   * already delivered `maxDeliveries` times (given up on instead). Starts its ack deadline.
   */
  admit(message: SettleOnceMessage, run: (message: SettleOnceMessage) => void): void {
    const { maxDeliveries } = this.#options;
    const delivery = deliveryOf(message);
    if (maxDeliveries !== undefined && delivery > maxDeliveries) {
      const settle = message.claim();
      if (settle) this.#giveUp(settle, message, delivery - 1, undefined);
      return;
    }
    const hold = this.#holdOf(message);
    if (hold > 0) {
      this.#later(hold, () => this.#run(message, run));
      return;
    }
    this.#run(message, run);
  }

  /** True when `admit` has nothing to do for `message` but call the handler (the hot path). */
  passes(message: SettleOnceMessage): boolean {
    return (
      this.#options.ackTimeoutMillis === undefined &&
      (this.#options.maxDeliveries === undefined || !message.redelivered) &&
      message.headers[MQ_HEADERS.retryAt] === undefined
    );
  }

  /**
   * The handler of `message` failed (threw, rejected, or let its ack deadline pass): reports `HANDLER_FAILED`
   * saying what happens next, then retries the message, gives up on it, or leaves it, as the options say.
   */
  failed(message: SettleOnceMessage, error: unknown, context: string): void {
    const delivery = deliveryOf(message);
    const { maxDeliveries, retryDelayMillis, deadLetter } = this.#options;
    const givingUp = maxDeliveries !== undefined && delivery >= maxDeliveries;
    const leaving = retryDelayMillis === false && !givingUp;
    // Taken over once: from now on the handler's own ack or nack does nothing, and a second failure of the same
    // delivery (a rejection after its ack deadline, say) is only reported.
    const settle = message.settled || leaving || this.#stopped ? undefined : message.claim();
    const next = settle
      ? givingUp
        ? `delivery ${delivery} of ${maxDeliveries}: ${deadLetter ? `moving it to '${deadLetter}'` : 'dropping it'}`
        : `retrying in ${retryDelayMillis} ms (delivery ${delivery}${maxDeliveries === undefined ? '' : ` of ${maxDeliveries}`})`
      : message.settled
        ? 'the message was settled or taken care of before'
        : this.#stopped
          ? 'the receiver is closing: the message stays unacked'
          : 'the message stays unacked (retryDelayMillis: false)';
    const detail = errorText(error);
    this.#host.report(
      this.#host.errors.error('HANDLER_FAILED', `${context}: ${detail}; ${next}`, { cause: error }),
    );
    if (!settle) return;
    if (givingUp) this.#giveUp(settle, message, delivery, detail);
    else this.#retry(settle, message, delivery, retryDelayMillis as number);
  }

  /**
   * `message` failed to decode or validate (`why` says how): never handed to the handler nor retried, it goes to
   * `deadLetter` at once (the reason in its headers) or is acked and dropped, with an `INVALID_PAYLOAD` report.
   */
  invalid(message: SettleOnceMessage, why: string): void {
    const settle = message.claim();
    if (!settle) return;
    const { errors, name } = this.#host;
    const { deadLetter } = this.#options;
    const id = message.messageId === undefined ? 'a message' : `message '${message.messageId}'`;
    const what = `${id} of '${name}' is not a valid body (${headerText(why)})`;
    if (deadLetter === undefined) {
      settle(false).then(
        () => this.#host.report(errors.error('INVALID_PAYLOAD', `${what}: dropped (no deadLetter is set)`)),
        (error: unknown) =>
          this.#host.report(
            errors.wrap(error, 'ACK_FAILED', `could not drop an invalid message of '${name}'`),
          ),
      );
      return;
    }
    this.#deadLetter(settle, message, deliveryOf(message), `invalid payload: ${why}`, () =>
      this.#host.report(
        errors.error('INVALID_PAYLOAD', `${what}: moved to dead-letter queue '${deadLetter}'`),
      ),
    );
  }

  /**
   * While `deferred` (a `messages()` loop reads the receiver), a message's ack deadline starts when the loop takes
   * it ({@link FailurePolicy.startAckDeadline}), not when it is delivered: messages waiting for the loop are not
   * failing.
   */
  deferAckDeadlines(deferred: boolean): void {
    this.#deferAckDeadlines = deferred;
  }

  /** Starts the ack deadline of a message a `messages()` loop took (see `deferAckDeadlines`). */
  startAckDeadline(message: SettleOnceMessage): void {
    const { ackTimeoutMillis } = this.#options;
    if (ackTimeoutMillis === undefined || message.settled) return;
    const timer = this.#later(ackTimeoutMillis, () => {
      if (message.settled) return;
      this.failed(
        message,
        new Error(`neither acked nor nacked within ackTimeoutMillis (${ackTimeoutMillis} ms)`),
        `message handler of '${this.#host.name}' timed out`,
      );
    });
    message.onceSettled(() => this.#clear(timer));
  }

  /** True while a move (retry copy or dead letter) is in flight. */
  get moving(): boolean {
    return this.#moving.size > 0;
  }

  /** Resolves once no move (retry copy or dead letter) is in flight. */
  async idle(): Promise<void> {
    while (this.#moving.size > 0) await Promise.allSettled([...this.#moving]);
  }

  /**
   * Stops: messages waiting for their time (held copies, retries waiting for their delay) are left unacked: the
   * broker hands them out again once the receiver's channel is gone (AMQP, memory); on MQTT they stay with the
   * session, as any message a closing receiver did not settle. No timer outlives this.
   */
  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  /** Undoes `stop()`, for a receiver opened again. */
  restart(): void {
    this.#stopped = false;
  }

  #run(message: SettleOnceMessage, run: (message: SettleOnceMessage) => void): void {
    // Not checked for `#stopped`: a delivery that reaches a closing receiver is handled, as on the fast path.
    if (!this.#deferAckDeadlines) this.startAckDeadline(message);
    run(message);
  }

  /** Milliseconds a retried copy must still wait, bounded by this receiver's own delay (clocks differ). */
  #holdOf(message: SettleOnceMessage): number {
    const at = message.headers[MQ_HEADERS.retryAt];
    if (at === undefined) return 0;
    const { retryDelayMillis } = this.#options;
    const wait = Number(at) - Date.now();
    if (!Number.isFinite(wait) || wait <= 0 || retryDelayMillis === false) return 0;
    return Math.min(wait, retryDelayMillis);
  }

  #retry(settle: Settle, message: SettleOnceMessage, delivery: number, delay: number): void {
    if (!this.#host.requeuesBehind) {
      this.#later(delay, () => this.#nack(settle));
      return;
    }
    // A copy behind the others, which waits out the delay where it arrives; the original is acked only once
    // the broker confirmed the copy (a drop in between hands out both: at least once, never lost).
    const headers: Record<string, string> = {
      ...message.headers,
      [MQ_HEADERS.deliveries]: String(delivery),
      [MQ_HEADERS.retryAt]: String(Date.now() + delay),
    };
    this.#move(
      this.#host.republish(undefined, message, { ...idsOf(message), headers }),
      settle,
      () => {},
      (error) => {
        this.#host.report(
          this.#host.errors.wrap(error, 'BROKER', `could not retry a message of '${this.#host.name}'`),
        );
        // The copy may not exist: hand the original back instead, once the delay is over.
        this.#later(delay, () => this.#nack(settle));
      },
    );
  }

  #giveUp(
    settle: Settle,
    message: SettleOnceMessage,
    deliveries: number,
    lastError: string | undefined,
  ): void {
    const { deadLetter } = this.#options;
    const { errors, name } = this.#host;
    const why = lastError ?? 'never acked (the receivers it went to did not finish it)';
    if (deadLetter === undefined) {
      settle(false).then(
        () =>
          this.#host.report(
            errors.error(
              'DROPPED',
              `a message of '${name}' was handed out ${deliveries} times without an ack (maxDeliveries) and no deadLetter is set: dropped. Last failure: ${why}`,
            ),
          ),
        (error: unknown) =>
          this.#host.report(
            this.#host.errors.wrap(error, 'ACK_FAILED', `could not drop a message of '${name}'`),
          ),
      );
      return;
    }
    this.#deadLetter(settle, message, deliveries, why, () =>
      this.#host.report(
        errors.error(
          'DEAD_LETTERED',
          `a message of '${name}' was handed out ${deliveries} times without an ack (maxDeliveries): moved to dead-letter queue '${deadLetter}'. Last failure: ${why}`,
        ),
      ),
    );
  }

  /** Moves `message` to `deadLetter` with headers saying why, then `done()`; tries again later if that fails. */
  #deadLetter(
    settle: Settle,
    message: SettleOnceMessage,
    deliveries: number,
    why: string,
    done: () => void,
  ): void {
    const deadLetter = this.#options.deadLetter as string;
    const name = this.#host.name;
    // The copy's own retry headers would make a receiver of the dead-letter queue count and hold it.
    const headers = headersWithout(
      message.headers,
      (key) => key === MQ_HEADERS.deliveries || key === MQ_HEADERS.retryAt,
    );
    headers[MQ_HEADERS.deadLetterFrom] = name;
    headers[MQ_HEADERS.deadLetterDeliveries] = String(deliveries);
    headers[MQ_HEADERS.deadLetterError] = headerText(why);
    headers[MQ_HEADERS.deadLetterTime] = new Date().toISOString();
    this.#move(
      this.#host.republish(deadLetter, message, { ...idsOf(message), headers }),
      settle,
      done,
      (error) => {
        const wait = Math.max(this.#options.retryDelayMillis || 0, MIN_DEAD_LETTER_RETRY_MILLIS);
        this.#host.report(
          this.#host.errors.wrap(
            error,
            'BROKER',
            `could not move a message of '${name}' to dead-letter queue '${deadLetter}'; it is handed back in ${wait} ms and tried again`,
          ),
        );
        this.#later(wait, () => this.#nack(settle));
      },
    );
  }

  /** Tracks a confirmed copy; once confirmed, acks the original, then `done()`; `failed()` if the copy failed. */
  #move(copy: Promise<void>, settle: Settle, done: () => void, failed: (error: unknown) => void): void {
    const moving: Promise<void> = copy
      .then(
        () => {
          done();
          return settle(false).catch((error: unknown) => {
            this.#host.report(
              this.#host.errors.wrap(
                error,
                'ACK_FAILED',
                `the copy of a message of '${this.#host.name}' is stored, but the original could not be acked: it comes again as well`,
              ),
            );
          });
        },
        (error: unknown) => {
          if (!this.#stopped) failed(error);
        },
      )
      .catch(() => {})
      .finally(() => this.#moving.delete(moving));
    this.#moving.add(moving);
  }

  /** Hands the message back (its nack failing means its channel is gone, and the broker hands it back). */
  #nack(settle: Settle): void {
    settle(true).catch(() => {});
  }

  #later(millis: number, step: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!this.#stopped) step();
    }, millis);
    this.#timers.add(timer);
    return timer;
  }

  #clear(timer: NodeJS.Timeout): void {
    clearTimeout(timer);
    this.#timers.delete(timer);
  }
}

/** Which delivery of `message` this is: 1 for the first. */
export function deliveryOf(message: { deliveryCount?: number | undefined; redelivered: boolean }): number {
  return (message.deliveryCount ?? (message.redelivered ? 1 : 0)) + 1;
}

/** Header-safe text: no control characters (an MQTT 5 broker drops a client for one), bounded. */
function headerText(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
  const clean = text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return clean.length > MAX_ERROR_HEADER_CHARS ? `${clean.slice(0, MAX_ERROR_HEADER_CHARS)}...` : clean;
}
