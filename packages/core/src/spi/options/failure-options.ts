import { DEFAULT_RETRY_DELAY_MILLIS, MAX_DELIVERIES_LIMIT, MAX_TIMER_MILLIS } from '../../api/limits.js';
import { checkQueueName, describeValue, invalid, readInteger } from './options.js';

/** Receiver option names of the failure policy (also in `QUEUE_OPTION_KEYS`). */
const FAILURE_OPTION_KEYS = ['retryDelayMillis', 'maxDeliveries', 'deadLetter', 'ackTimeoutMillis'] as const;

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

/** The policy of a sender: nothing to do. */
export const NO_FAILURE_POLICY: FailurePolicyOptions = Object.freeze({
  retryDelayMillis: false,
  maxDeliveries: undefined,
  deadLetter: undefined,
  ackTimeoutMillis: undefined,
});

/**
 * Reads the failure-policy options of queue `name` (receivers only; a sender giving one is refused) and fills in
 * defaults. Throws `INVALID_OPTIONS` naming the field and the rule.
 */
export function readFailurePolicy(
  pkg: string,
  opts: Record<string, unknown>,
  name: string,
  isRecv: boolean,
): FailurePolicyOptions {
  if (!isRecv) {
    const given = FAILURE_OPTION_KEYS.find((key) => opts[key] !== undefined);
    if (given !== undefined) {
      throw invalid(
        pkg,
        `${given} is for receivers only (isRecv: true), got ${describeValue(opts[given])} on a sender`,
      );
    }
    return NO_FAILURE_POLICY;
  }
  const retry = opts.retryDelayMillis;
  let retryDelayMillis: number | false = DEFAULT_RETRY_DELAY_MILLIS;
  if (retry === false) retryDelayMillis = false;
  else if (retry !== undefined) {
    if (typeof retry !== 'number' || !Number.isInteger(retry) || retry < 0 || retry > MAX_TIMER_MILLIS) {
      throw invalid(
        pkg,
        `retryDelayMillis must be an integer from 0 to ${MAX_TIMER_MILLIS}, or false to leave failed messages unacked, got ${describeValue(retry)}`,
      );
    }
    retryDelayMillis = retry;
  }
  const maxDeliveries = readInteger(pkg, opts, 'maxDeliveries', { min: 1, max: MAX_DELIVERIES_LIMIT });
  let deadLetter: string | undefined;
  if (opts.deadLetter !== undefined) {
    try {
      deadLetter = checkQueueName(pkg, opts.deadLetter);
    } catch (error) {
      throw invalid(pkg, `deadLetter: ${(error as Error).message.replace(/^\[[^\]]+\] name /, '')}`);
    }
    if (deadLetter === name) throw invalid(pkg, `deadLetter must name another queue than '${name}' itself`);
    if (maxDeliveries === undefined) {
      throw invalid(
        pkg,
        'deadLetter needs maxDeliveries: the number of deliveries after which a message goes there',
      );
    }
  }
  if (maxDeliveries !== undefined && retryDelayMillis === false) {
    throw invalid(
      pkg,
      'maxDeliveries counts the retries of failed messages, and retryDelayMillis false makes none: drop one of them (for a broker-side limit on RabbitMQ, use a quorum queue with deliveryLimit)',
    );
  }
  const ackTimeoutMillis = readInteger(pkg, opts, 'ackTimeoutMillis', { min: 1, max: MAX_TIMER_MILLIS });
  return { retryDelayMillis, maxDeliveries, deadLetter, ackTimeoutMillis };
}
