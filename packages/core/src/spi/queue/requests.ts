import { randomUUID } from 'node:crypto';
import type { MqError } from '../../api/errors.js';
import { MAX_TIMER_MILLIS } from '../../api/limits.js';
import type { Reply, RequestOptions } from '../../api/reply.js';
import type { SendOptions } from '../../api/send-options.js';
import type { Status } from '../../api/status.js';
import { describeValue } from '../describe.js';
import type { PackageErrors } from '../errors.js';
import { isAbortSignal } from '../guards.js';
import type { ResolvedQueueOptions } from '../options/queue-options.js';
import { NO_SEND_OPTIONS, withSendOptions } from '../options/send-options.js';
import { readFields } from '../options/validate.js';
import type { QueueDriver } from './queue-driver.js';

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
  /** The queue's status. */
  status(): Status;
  /** The driver of the current cycle. */
  driver(): QueueDriver | undefined;
  /** Checks the request's metadata as `sendMsg()` does; throws `INVALID_ARGUMENT` naming the field. */
  check(options: SendOptions): SendOptions | undefined;
  /** Checks a payload as `sendMsg()` does; throws `INVALID_ARGUMENT`. */
  checkPayload(payload: unknown): void;
  /** Sends the request as `sendMsg()` does (tracing, deadline), its payload and metadata checked already. */
  sendChecked(payload: Uint8Array, options: SendOptions): Promise<void>;
}

/** One request waiting for its reply. */
interface Waiting {
  resolve(reply: Reply): void;
  reject(error: unknown): void;
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

/**
 * A sender's requests: each waits, under its correlation id, for the reply the driver hands to `deliver()`,
 * with its own deadline and signal; a reply for no waiting request is dropped and counted. Every request ends
 * once (reply, `TIMEOUT`, `ABORTED`, its send failing, the link or the queue going), and its entry goes with it.
 */
export class RequestPath {
  readonly #parts: RequestParts;
  readonly #waiting = new Map<string, Waiting>();
  #dropped = 0;

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
    const status = this.#parts.status();
    const driver = this.#parts.driver();
    if (status !== 'connected' || !driver?.replyAddress) {
      return Promise.reject(
        errors.error('NOT_CONNECTED', `queue '${name}' is ${status}, not connected: request not sent`),
      );
    }
    const correlationId = send.correlationId ?? randomUUID();
    if (this.#waiting.has(correlationId)) {
      return Promise.reject(
        errors.argument(
          `correlationId ${describeValue(correlationId)} is already used by a request of '${name}' that waits for its reply`,
        ),
      );
    }
    return new Promise<Reply>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => end(this.#aborted(), undefined);
      const end = (error: unknown, reply: Reply | undefined): void => {
        if (this.#waiting.get(correlationId) !== waiting) return;
        this.#waiting.delete(correlationId);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (reply) resolve(reply);
        else reject(error);
      };
      const waiting: Waiting = {
        resolve: (reply) => end(undefined, reply),
        reject: (error) => end(error, undefined),
      };
      // In place before the request goes out: an in-process broker may answer within the send.
      this.#waiting.set(correlationId, waiting);
      timer = setTimeout(
        () =>
          waiting.reject(
            errors.error(
              'TIMEOUT',
              `no reply to the request on '${name}' within ${timeoutMillis} ms (timeoutMillis): a later reply is dropped`,
            ),
          ),
        timeoutMillis,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      const expirationMillis = Math.min(send.expirationMillis ?? timeoutMillis, timeoutMillis);
      void this.#send(driver, payload, withSendOptions(send, { correlationId, expirationMillis }), () =>
        this.#waiting.has(correlationId),
      ).catch(waiting.reject);
    });
  }

  /** A reply from the driver: to its request, or dropped and counted. */
  deliver(reply: Reply): void {
    const id = reply.correlationId;
    const waiting = id === undefined ? undefined : this.#waiting.get(id);
    if (!waiting) {
      this.#dropped += 1;
      return;
    }
    waiting.resolve(reply);
  }

  /** Rejects every waiting request with `error` (their link or queue is gone: no reply can reach them). */
  failAll(error: MqError): void {
    for (const waiting of [...this.#waiting.values()]) waiting.reject(error);
  }

  /**
   * The reply address (made by the driver on first use), then the request, sent as `sendMsg()` sends (its
   * metadata already checked). No promise hop when the driver has the address at hand.
   */
  #send(
    driver: QueueDriver,
    payload: Uint8Array,
    options: SendOptions,
    waiting: () => boolean,
  ): Promise<void> {
    const failed = (error: unknown): never => {
      throw this.#parts.errors.wrap(
        error,
        'BROKER',
        `opening the reply receiver of '${this.#parts.options.name}' failed`,
      );
    };
    let address: string | Promise<string>;
    try {
      address = (driver.replyAddress as () => string | Promise<string>).call(driver);
    } catch (error) {
      return Promise.reject(this.#parts.errors.wrap(error, 'BROKER', 'no reply receiver'));
    }
    if (typeof address === 'string')
      return this.#parts.sendChecked(payload, withSendOptions(options, { replyTo: address }));
    return address.then((replyTo) => {
      // Ended (aborted, timed out) while the reply receiver was being made: nobody waits for an answer.
      if (!waiting()) return undefined;
      return this.#parts.sendChecked(payload, withSendOptions(options, { replyTo }));
    }, failed);
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
    const fields = readFields(errors, options, {
      what: 'request options',
      keys: REQUEST_OPTION_KEYS,
      complaint: 'argument',
      prefix: 'request options.',
    });
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
    for (const key in fields) {
      if (key === 'timeoutMillis' || key === 'signal' || fields[key] === undefined) continue;
      send ??= {};
      send[key] = fields[key];
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
