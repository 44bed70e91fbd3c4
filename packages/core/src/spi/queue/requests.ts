import { randomBytes } from 'node:crypto';
import type { MqError } from '../../api/errors.js';
import { MAX_TIMER_MILLIS } from '../../api/limits.js';
import type { Reply, RequestOptions } from '../../api/reply.js';
import type { SendOptions } from '../../api/send-options.js';
import { describeValue } from '../describe.js';
import type { PackageErrors } from '../errors.js';
import { isAbortSignal } from '../guards.js';
import { SETTLED } from '../message.js';
import type { ResolvedQueueOptions } from '../options/queue-options.js';
import { NO_SEND_OPTIONS, withSendOptions } from '../options/send-options.js';
import { type FieldsSpec, readFields } from '../options/validate.js';
import type { QueueDriver, QueueLink } from './queue-driver.js';

/** What the request path needs from the rest of the queue. */
export interface RequestParts {
  /** The backend's errors. */
  readonly errors: PackageErrors;
  /** The queue's validated options. */
  readonly options: ResolvedQueueOptions;
  /** True when the backend (on this connection) has capability `requestReply`. */
  readonly supported: boolean;
  /** Said after the `UNSUPPORTED` of a request, e.g. `: MQTT 3.1.1 has no response topic`. */
  readonly unsupportedHint: string;
  /** The queue's status and driver. */
  readonly link: QueueLink;
  /** Checks the request's metadata as `sendMsg()` does; throws `INVALID_ARGUMENT` naming the field. */
  check(options: SendOptions): SendOptions | undefined;
  /** Checks a payload as `sendMsg()` does; throws `INVALID_ARGUMENT`. */
  checkPayload(payload: unknown): void;
  /** Sends the request as `sendMsg()` does (tracing, deadline), its payload and metadata checked already. */
  sendChecked(payload: Uint8Array, options: SendOptions): Promise<void>;
}

/**
 * One request waiting for its reply under its correlation id, until its deadline (`performance.now()` based) or
 * its signal: one object per request, ended once by whichever comes first.
 */
class WaitingRequest {
  /** Set while the request listens to its signal. */
  onAbort: (() => void) | undefined;

  constructor(
    readonly correlationId: string,
    readonly deadline: number,
    readonly timeoutMillis: number,
    readonly resolve: (reply: Reply) => void,
    readonly reject: (error: unknown) => void,
    readonly signal: AbortSignal | undefined,
  ) {}
}

/** Every field of `RequestOptions` (the compiler keeps them in step with the interface). */
const REQUEST_OPTION_KEYS = Object.keys({
  headers: true,
  messageId: true,
  correlationId: true,
  contentType: true,
  expirationMillis: true,
  topic: true,
  timeoutMillis: true,
  signal: true,
} as const satisfies Record<keyof RequestOptions, true>);

/** The fields of `RequestOptions` that go with the message (all but the deadline and the signal). */
const SEND_OPTION_KEYS = REQUEST_OPTION_KEYS.filter((key) => key !== 'timeoutMillis' && key !== 'signal');

/** How `request()` reads its options. */
const REQUEST_FIELDS: FieldsSpec = {
  what: 'request options',
  keys: REQUEST_OPTION_KEYS,
  complaint: 'argument',
  prefix: 'request options.',
};

/**
 * A sender's requests: each waits, under its correlation id, for the reply the driver hands to `deliver()`,
 * with its own deadline and signal; a reply for no waiting request is dropped and counted. Every request ends
 * once (reply, `TIMEOUT`, `ABORTED`, its send failing, the link or the queue going), and its entry goes with it.
 */
export class RequestPath {
  readonly #parts: RequestParts;
  readonly #waiting = new Map<string, WaitingRequest>();
  #dropped = 0;
  /** The one deadline timer, and the deadline it is armed for. */
  #timer: NodeJS.Timeout | undefined;
  #timerAt = 0;
  /**
   * This sender's correlation ids: a random prefix of its own, then a counter. Unique among the requests of any
   * sender, also of an earlier process on the same reply address, and short on the wire both ways.
   */
  readonly #idPrefix = `${randomBytes(9).toString('base64url')}.`;
  #idCount = 0;

  /** No request waiting yet. */
  constructor(parts: RequestParts) {
    this.#parts = parts;
  }

  /** Replies dropped because no request of theirs was waiting. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Requests waiting for their reply. */
  get pending(): number {
    return this.#waiting.size;
  }

  /** `request()`: never throws; rejects as the `Queue` interface says. */
  request(payload: Uint8Array, options: RequestOptions | undefined): Promise<Reply> {
    const { errors, options: queueOptions } = this.#parts;
    const name = queueOptions.name;
    if (queueOptions.isRecv) {
      return Promise.reject(
        errors.error('SEND_ON_RECEIVER', `queue '${name}' is a receiver and cannot send requests`),
      );
    }
    if (!this.#parts.supported) {
      return Promise.reject(
        errors.error(
          'UNSUPPORTED',
          `queue '${name}' cannot send requests (capability requestReply is false)${this.#parts.unsupportedHint}`,
        ),
      );
    }
    let send: SendOptions;
    let timeoutMillis: number;
    let signal: AbortSignal | undefined;
    try {
      this.#parts.checkPayload(payload);
      ({ send, timeoutMillis, signal } = this.#read(options));
    } catch (error) {
      return Promise.reject(error);
    }
    if (signal?.aborted) return Promise.reject(this.#aborted());
    const { status, driver } = this.#parts.link;
    if (status !== 'connected' || !driver?.replyAddress) {
      return Promise.reject(
        errors.error('NOT_CONNECTED', `queue '${name}' is ${status}, not connected: request not sent`),
      );
    }
    const correlationId = send.correlationId ?? this.#nextId();
    if (this.#waiting.has(correlationId)) {
      return Promise.reject(
        errors.argument(
          `correlationId ${describeValue(correlationId)} is already used by a request of '${name}' that waits for its reply`,
        ),
      );
    }
    const expirationMillis = Math.min(send.expirationMillis ?? timeoutMillis, timeoutMillis);
    return new Promise<Reply>((resolve, reject) => {
      const request = new WaitingRequest(
        correlationId,
        performance.now() + timeoutMillis,
        timeoutMillis,
        resolve,
        reject,
        signal,
      );
      // In place before the request goes out: an in-process broker may answer within the send.
      this.#waiting.set(correlationId, request);
      this.#watchDeadline(request);
      if (signal) {
        request.onAbort = () => this.#end(request, this.#aborted(), undefined);
        signal.addEventListener('abort', request.onAbort, { once: true });
      }
      const sent = this.#send(driver, payload, send, correlationId, expirationMillis);
      // A send done within the call (a best-effort write the socket took) cannot fail any more: nothing to watch.
      if (sent !== SETTLED) sent.catch((error: unknown) => this.#end(request, error, undefined));
    });
  }

  /** A correlation id no request of any sender has used. */
  #nextId(): string {
    this.#idCount += 1;
    return this.#idPrefix + this.#idCount.toString(36);
  }

  /** A reply from the driver: to its request, or dropped and counted. */
  deliver(reply: Reply): void {
    const id = reply.correlationId;
    const request = id === undefined ? undefined : this.#waiting.get(id);
    if (request) this.#end(request, undefined, reply);
    else this.#dropped += 1;
  }

  /** Rejects every waiting request with `error` (their link or queue is gone: no reply can reach them). */
  failAll(error: MqError): void {
    for (const request of [...this.#waiting.values()]) this.#end(request, error, undefined);
  }

  /** Ends `request` once: with `reply`, else rejecting with `error`; later calls do nothing. */
  #end(request: WaitingRequest, error: unknown, reply: Reply | undefined): void {
    if (this.#waiting.get(request.correlationId) !== request) return;
    this.#waiting.delete(request.correlationId);
    if (this.#waiting.size === 0) this.#timer?.unref();
    if (request.onAbort) request.signal?.removeEventListener('abort', request.onAbort);
    if (reply) request.resolve(reply);
    else request.reject(error);
  }

  /**
   * One timer for every request's deadline, armed for the earliest: a request that ends in time costs no timer of
   * its own (the timer is moved only for a deadline earlier than the one it waits for, and otherwise left to run
   * out, unref'd while no request waits).
   */
  #watchDeadline(request: WaitingRequest): void {
    if (this.#timer !== undefined && request.deadline >= this.#timerAt) {
      this.#timer.ref();
      return;
    }
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#arm(request.deadline);
  }

  #arm(deadline: number): void {
    this.#timerAt = deadline;
    // Keeps the process alive while a request waits (as its deadline would), and no longer (see `#end`).
    this.#timer = setTimeout(this.#expire, Math.max(0, deadline - performance.now()));
  }

  /** The timer ran out: every request past its deadline rejects `TIMEOUT`; the timer moves to the next deadline. */
  readonly #expire = (): void => {
    this.#timer = undefined;
    // A timer may fire up to a millisecond before its time as `performance.now()` counts it.
    const now = performance.now() + 1;
    let next = Number.POSITIVE_INFINITY;
    for (const request of [...this.#waiting.values()]) {
      if (request.deadline <= now) this.#end(request, this.#timedOut(request), undefined);
      else if (request.deadline < next) next = request.deadline;
    }
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next);
  };

  #timedOut(request: WaitingRequest): MqError {
    return this.#parts.errors.error(
      'TIMEOUT',
      `no reply to the request on '${this.#parts.options.name}' within ${request.timeoutMillis} ms (timeoutMillis): a later reply is dropped`,
    );
  }

  /**
   * The reply address (made by the driver on first use), then the request, sent as `sendMsg()` sends (its
   * metadata already checked) with its correlation id, expiration and reply address. No promise hop when the
   * driver has the address at hand.
   */
  #send(
    driver: QueueDriver,
    payload: Uint8Array,
    options: SendOptions,
    correlationId: string,
    expirationMillis: number,
  ): Promise<void> {
    const { errors } = this.#parts;
    let address: string | Promise<string>;
    try {
      address = (driver.replyAddress as () => string | Promise<string>).call(driver);
    } catch (error) {
      return Promise.reject(errors.wrap(error, 'BROKER', 'no reply receiver'));
    }
    if (typeof address === 'string') {
      return this.#parts.sendChecked(
        payload,
        withSendOptions(options, { correlationId, expirationMillis, replyTo: address }),
      );
    }
    return address.then(
      (replyTo) => {
        // Ended (aborted, timed out) while the reply receiver was being made: nobody waits for an answer.
        if (!this.#waiting.has(correlationId)) return undefined;
        return this.#parts.sendChecked(
          payload,
          withSendOptions(options, { correlationId, expirationMillis, replyTo }),
        );
      },
      (error: unknown) => {
        throw errors.wrap(
          error,
          'BROKER',
          `opening the reply receiver of '${this.#parts.options.name}' failed`,
        );
      },
    );
  }

  /** Splits and checks `request()`'s options: what goes with the message, the deadline, the signal. */
  #read(options: RequestOptions | undefined): {
    send: SendOptions;
    timeoutMillis: number;
    signal: AbortSignal | undefined;
  } {
    const { errors, options: queueOptions } = this.#parts;
    if (options === undefined) {
      return { send: NO_SEND_OPTIONS, timeoutMillis: queueOptions.sendTimeoutMillis, signal: undefined };
    }
    const fields = readFields(errors, options, REQUEST_FIELDS);
    const { timeoutMillis = queueOptions.sendTimeoutMillis, signal } = fields;
    if (
      typeof timeoutMillis !== 'number' ||
      !Number.isInteger(timeoutMillis) ||
      timeoutMillis < 1 ||
      timeoutMillis > MAX_TIMER_MILLIS
    ) {
      throw errors.argument(
        `request options.timeoutMillis must be an integer from 1 to ${MAX_TIMER_MILLIS}, got ${describeValue(timeoutMillis)}`,
      );
    }
    if (signal !== undefined && !isAbortSignal(signal)) {
      throw errors.argument(`request options.signal must be an AbortSignal, got ${describeValue(signal)}`);
    }
    // Checked now, as `sendMsg()` checks them: the correlation id and the expiration are used before the send.
    // Only a deadline or a signal (the common case): nothing to check. Names are REQUEST_OPTION_KEYS only.
    let send: Record<string, unknown> | undefined;
    for (const key of SEND_OPTION_KEYS) {
      const value = fields[key];
      if (value === undefined) continue;
      send ??= {};
      send[key] = value;
    }
    return {
      send:
        send === undefined ? NO_SEND_OPTIONS : (this.#parts.check(send as SendOptions) ?? NO_SEND_OPTIONS),
      timeoutMillis,
      signal,
    };
  }

  #aborted(): MqError {
    return this.#parts.errors.error(
      'ABORTED',
      `the request on '${this.#parts.options.name}' was aborted through its signal: a later reply is dropped`,
    );
  }
}
