import { DEFAULT_RETRY_DELAY_MILLIS, MAX_DELIVERIES_LIMIT, MAX_TIMER_MILLIS } from '../../api/limits.js';
import type { QueueOptions } from '../../api/queue.js';
import { describeValue } from '../describe.js';
import type { OptionReader } from './validate.js';

/** What a receiver does with a message whose handler failed, after validation. */
export interface FailurePolicyOptions {
  /** Milliseconds before a failed message is handed out again; `false` leaves it unacked (no retry). */
  retryDelayMillis: number | false;
  /** Deliveries after which a failing message is given up on; `undefined`: never. */
  maxDeliveries: number | undefined;
  /** Where given-up messages go; `undefined`: they are dropped. */
  deadLetter: string | undefined;
  /** Milliseconds a handler has to ack or nack a message before it counts as failed; `undefined`: no limit. */
  ackTimeoutMillis: number | undefined;
}

/** `retryDelayMillis`: an integer from 0, or `false`. */
export function readRetryDelay(read: OptionReader<QueueOptions>): number | false {
  const value = read.raw('retryDelayMillis');
  if (value === undefined) return DEFAULT_RETRY_DELAY_MILLIS;
  if (value === false) return false;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_TIMER_MILLIS) {
    throw read.fail(
      `retryDelayMillis must be an integer from 0 to ${MAX_TIMER_MILLIS}, or false to leave failed messages unacked, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** `maxDeliveries`: an integer from 1 to {@link MAX_DELIVERIES_LIMIT}, if given. */
export function readMaxDeliveries(read: OptionReader<QueueOptions>): number | undefined {
  return read.integer('maxDeliveries', { min: 1, max: MAX_DELIVERIES_LIMIT });
}

/** `deadLetter`: a queue name, if given. */
export function readDeadLetter(read: OptionReader<QueueOptions>): string | undefined {
  return read.has('deadLetter') ? read.queueName('deadLetter', 'deadLetter:') : undefined;
}

/** `ackTimeoutMillis`: milliseconds, if given. */
export function readAckTimeout(read: OptionReader<QueueOptions>): number | undefined {
  return read.integer('ackTimeoutMillis', { min: 1, max: MAX_TIMER_MILLIS });
}

/**
 * The failure policy of receiver `name` from its read fields, checking the rules between them. Throws
 * `INVALID_OPTIONS` naming the field and the rule. `checksBodies`: the receiver decodes or validates bodies, so
 * `deadLetter` has a use (invalid messages) without `maxDeliveries`.
 */
export function failurePolicy(
  read: OptionReader<QueueOptions>,
  name: string,
  given: FailurePolicyOptions,
  checksBodies = false,
): FailurePolicyOptions {
  const { retryDelayMillis, maxDeliveries, deadLetter } = given;
  if (deadLetter !== undefined) {
    if (deadLetter === name) throw read.fail(`deadLetter must name another queue than '${name}' itself`);
    if (maxDeliveries === undefined && !checksBodies) {
      throw read.fail(
        'deadLetter needs maxDeliveries (the number of deliveries after which a message goes there), or a codec or schema (whose invalid messages go there)',
      );
    }
  }
  if (maxDeliveries !== undefined && retryDelayMillis === false) {
    throw read.fail(
      'maxDeliveries counts the retries of failed messages, and retryDelayMillis false makes none: drop one of them (for a broker-side limit on RabbitMQ, use a quorum queue with deliveryLimit)',
    );
  }
  return Object.freeze({ ...given });
}
