import { PROCESS_CHANNEL, type ProcessTrace, traced } from '../../api/diagnostics.js';
import type { MqError } from '../../api/errors.js';
import type { Message } from '../../api/message.js';
import type { MessageHandler, MessagesOptions, Queue, QueueEvents } from '../../api/queue.js';
import type { SendOptions } from '../../api/send-options.js';
import type { Status } from '../../api/status.js';
import type { TypedBodies, Verdict } from '../codec/typed-body.js';
import { ConcurrencyGate } from '../concurrency/gate.js';
import { describeValue } from '../describe.js';
import type { PackageErrors } from '../errors.js';
import { isAbortSignal } from '../guards.js';
import { type DeliveredMessage, SETTLED, SettleOnceMessage } from '../message.js';
import type { ResolvedReceiverOptions } from '../options/queue-options.js';
import { readFields } from '../options/validate.js';
import { checkHandler } from './arguments.js';
import { FailurePolicy } from './failure-policy.js';
import { MessageStream } from './message-stream.js';

/** What the receive path needs from the rest of the queue. */
export interface ReceiveParts {
  /** The backend's errors. */
  readonly errors: PackageErrors;
  /** The receiver's validated options. */
  readonly options: ResolvedReceiverOptions;
  /** The queue: what handlers get, and what `mq:process` names. */
  readonly queue: Queue;
  /** True when `republish(undefined, ...)` puts a copy behind the messages waiting (see the trait). */
  readonly requeuesBehind: boolean;
  /** Decodes and checks bodies (see the options `codec` and `schema`). */
  readonly bodies: TypedBodies;
  /** The queue's connection: receivers of one name on it that order by key share that order. */
  readonly connection: object;
  /** The queue's status. */
  status(): Status;
  /** The connection's broker address (password redacted), if it reports one. */
  address(): string | undefined;
  /** How many `error` listeners the queue has. */
  errorListeners(): number;
  /** Sends a reply to `to` (see the send path's `reply()`). */
  reply(
    to: string,
    correlationId: string | undefined,
    payload: Uint8Array,
    options: SendOptions | undefined,
  ): Promise<void>;
  /** A confirmed, tracked copy of a message (see the send path). */
  republish(to: string | undefined, message: SettleOnceMessage, options: SendOptions): Promise<void>;
  /** Emits an `error` on the queue. */
  report(error: MqError): void;
  /** Opens the queue (`connect()`). */
  connect(): void;
  /** Closes the queue. */
  close(): Promise<void>;
  /** Listens for the queue's status changes and errors; returns what stops listening. */
  subscribe(onStatus: QueueEvents['status'], onError: QueueEvents['error']): () => void;
}

/**
 * A receiver's deliveries: the failure policy admits each message, the handler runs (tracked for `close()` when it
 * returns a promise, traced through `mq:process` while someone listens), a failing handler is retried as the
 * policy says and reported (printed once when nobody listens); `messages()` feeds a `for await` loop instead.
 */
export class ReceivePath {
  readonly #parts: ReceiveParts;
  readonly #policy: FailurePolicy;
  #handler: MessageHandler | undefined;
  /** Handlers that returned a promise not settled yet, and who waits for there to be none. */
  #running = 0;
  #idle: Array<() => void> = [];
  /** Whether the one warning about handler failures nobody listens for was given. */
  #warnedUnheard = false;
  /** The `concurrency` and `orderingKey` of handlers; undefined when neither was ever set. */
  #gate: ConcurrencyGate | undefined;
  /** True while a `messages()` loop reads the receiver (the gate is for handlers only). */
  #streaming = false;
  /** When the last message came (`Date.now()`), for `health()`. */
  lastDeliveryAt: number | undefined;

  /** A receiver without handler. */
  constructor(parts: ReceiveParts) {
    this.#parts = parts;
    this.#policy = new FailurePolicy(parts.options.failure, {
      errors: parts.errors,
      name: parts.options.name,
      get requeuesBehind() {
        return parts.requeuesBehind;
      },
      republish: (to, message, options) => parts.republish(to, message, options),
      report: (error) => this.#reportHandlerError(error),
    });
    const { concurrency, orderingKey } = parts.options;
    if (concurrency !== undefined || orderingKey !== undefined) this.#openGate(concurrency, orderingKey);
  }

  /** Runs at most `concurrency` handlers at once from now on (see the option). */
  setConcurrency(concurrency: unknown): void {
    if (
      typeof concurrency !== 'number' ||
      !Number.isInteger(concurrency) ||
      concurrency < 1 ||
      concurrency > MAX_CONCURRENCY
    ) {
      throw this.#parts.errors.argument(
        `concurrency must be an integer from 1 to ${MAX_CONCURRENCY}, got ${describeValue(concurrency)}`,
      );
    }
    if (this.#gate) this.#gate.setLimit(concurrency);
    else this.#openGate(concurrency, this.#parts.options.orderingKey);
  }

  #openGate(
    limit: number | undefined,
    keyOf: ((message: Message<unknown>) => string | undefined) | undefined,
  ): void {
    // Broadcast receivers each get every message: each keeps its own order. Topic receivers share it with those
    // of the same group and patterns only (another group gets copies of its own).
    const { connection, options } = this.#parts;
    const source =
      options.routing === 'topic'
        ? `${options.name}\u0000${options.group}\u0000${options.topics?.join(' ')}`
        : options.name;
    this.#gate = new ConcurrencyGate(limit, keyOf, options.broadcast ? {} : connection, source);
    // A message waiting for its turn is not failing: its ack deadline starts when its handler does.
    if (!this.#streaming) this.#policy.deferAckDeadlines(true);
  }

  /** True once a handler is set. */
  get hasHandler(): boolean {
    return this.#handler !== undefined;
  }

  /** True while a handler or a failure-policy copy is still at work. */
  get busy(): boolean {
    return this.#running > 0 || this.#policy.moving;
  }

  /** Handlers running now (returned promises not settled yet). */
  get running(): number {
    return this.#running;
  }

  /** Sets the handler (checked). */
  setHandler(handler: MessageHandler): void {
    checkHandler(this.#parts.errors, handler);
    this.#handler = handler;
  }

  /** The receiver opens (again): the failure policy acts again. */
  start(): void {
    this.#policy.restart();
  }

  /** The receiver closes: messages waiting for a retry or their time stay unacked, for the broker to hand out again. */
  stop(): void {
    this.#policy.stop();
    this.#gate?.clear();
  }

  /** Resolves once no handler is running and no failure-policy copy is in flight. */
  async idle(): Promise<void> {
    const handlers =
      this.#running === 0 ? undefined : new Promise<void>((resolve) => this.#idle.push(resolve));
    await Promise.all([handlers, this.#policy.idle()]);
  }

  /**
   * One message from the driver: the failure policy admits it (a retried copy may wait for its time, one delivered
   * `maxDeliveries` times is given up on), then the handler runs. A message without `headers` or `redelivered`
   * (from a backend written before metadata existed) gets `{}` and `false`. The drivers call it directly (it is
   * their `QueueCore.deliver`): deliveries are handled whenever they come, also on a closed receiver.
   */
  readonly deliver = (incoming: DeliveredMessage): void => {
    this.lastDeliveryAt = Date.now();
    if (!this.#handler) return;
    const message =
      incoming instanceof SettleOnceMessage
        ? incoming
        : new SettleOnceMessage(
            incoming.payload,
            (requeue) => (requeue ? incoming.nack() : incoming.ack()),
            incoming,
          );
    message.bindReplier(this.#reply);
    if (this.#policy.passes(message)) this.#run(message);
    else this.#policy.admit(message, this.#run);
  };

  /** Every message's `reply()`: to its `replyTo`, with its correlation id (or else its message id). */
  readonly #reply = (
    message: SettleOnceMessage,
    payload: Uint8Array,
    options: SendOptions | undefined,
  ): Promise<void> => {
    const to = message.replyTo;
    if (to === undefined) {
      return Promise.reject(
        this.#parts.errors.argument(
          `reply() on a message of '${this.#parts.options.name}' without replyTo: it was sent neither by request() nor with SendOptions.replyTo`,
        ),
      );
    }
    return this.#parts.reply(to, message.correlationId ?? message.messageId, payload, options);
  };

  /**
   * A closed receiver without handler, connected, its messages yielded to a `for await` loop (see the `Queue`
   * interface's `messages()`).
   */
  messages(options: MessagesOptions): AsyncIterableIterator<Message> {
    const { errors, options: queueOptions } = this.#parts;
    const fields = readFields(errors, options, {
      what: 'messages() options',
      keys: MESSAGES_OPTION_KEYS,
      complaint: 'argument',
      prefix: 'messages() options.',
    });
    const signal = fields.signal;
    if (signal !== undefined && !isAbortSignal(signal)) {
      throw errors.argument(`messages() options.signal must be an AbortSignal, got ${describeValue(signal)}`);
    }
    const status = this.#parts.status();
    if (this.#handler || status !== 'closed') {
      throw errors.argument(
        `queue '${queueOptions.name}': messages() takes a closed receiver without handler (it sets its own and connects); this one ${this.#handler ? 'has a handler' : `is ${status}`}`,
      );
    }
    let handler: MessageHandler | undefined;
    // Before the stream exists: one made with an aborted signal ends at once, and its end undoes this.
    this.#policy.deferAckDeadlines(true);
    const stream = new MessageStream(
      {
        errors,
        name: queueOptions.name,
        close: () => this.#parts.close(),
        taken: (message) => this.#policy.startAckDeadline(message as SettleOnceMessage),
        ended: () => {
          if (handler !== undefined && this.#handler === handler) this.#handler = undefined;
          this.#streaming = false;
          this.#policy.deferAckDeadlines(this.#gate !== undefined);
        },
        subscribe: (onStatus, onError) => this.#parts.subscribe(onStatus, onError),
      },
      signal,
    );
    handler = (_queue, message) => stream.push(message);
    this.#handler = handler;
    this.#streaming = true;
    if (signal?.aborted) {
      this.#handler = undefined;
      return stream;
    }
    try {
      this.#parts.connect();
    } catch (error) {
      this.#handler = undefined;
      void stream.return();
      throw error;
    }
    return stream;
  }

  /**
   * One admitted message: decoded (a body that cannot be is given up on at once), then, in its turn where a gate
   * orders handlers, checked against the schema and handed to the handler.
   */
  readonly #run = (message: SettleOnceMessage): void => {
    if (!this.#handler) return;
    const { bodies } = this.#parts;
    if (bodies.decodes) {
      const decoded = bodies.decode(message.payload, message.contentType);
      if (!decoded.ok) {
        this.#policy.invalid(message, decoded.why);
        return;
      }
      message.decoded(decoded.body);
    }
    const gate = this.#gate;
    if (gate === undefined || this.#streaming) {
      if (bodies.validates) this.#checked(message);
      else this.#handle(message);
      return;
    }
    gate.enter(message, () => {
      this.#policy.startAckDeadline(message);
      return this.#checked(message);
    });
  };

  /** Checks the body against the schema, then runs the handler; a promise while either is still at work. */
  #checked(message: SettleOnceMessage): Promise<void> | undefined {
    const { bodies } = this.#parts;
    if (!bodies.validates) return this.#handle(message);
    const verdict = bodies.check(message.body);
    if (!(verdict instanceof Promise)) return this.#validated(message, verdict);
    // An async schema: close() waits for it as for a handler.
    this.#running += 1;
    return verdict.then((result) => {
      this.#handlerReturned();
      return this.#validated(message, result);
    });
  }

  #validated(message: SettleOnceMessage, verdict: Verdict): Promise<void> | undefined {
    if (!verdict.ok) {
      this.#policy.invalid(message, verdict.why);
      return undefined;
    }
    message.decoded(verdict.body);
    return this.#handle(message);
  }

  /** Runs the handler on one message; a promise of its end when it returned one. */
  #handle(message: SettleOnceMessage): Promise<void> | undefined {
    const handler = this.#handler;
    if (!handler) return undefined;
    // The handler runs synchronously, as it would inside an async wrapper, but only a handler that returns a
    // promise costs a promise and a place in the count close() waits for: this is the hot path of every receiver.
    let result: unknown;
    try {
      result = traced(PROCESS_CHANNEL)
        ? this.#traceHandler(handler, message)
        : handler(this.#parts.queue, message);
    } catch (error) {
      this.#handlerFailed(message, error);
      return undefined;
    }
    // SETTLED (e.g. `return message.ack()` with nothing left to do) is already done: nothing to track.
    if (result === SETTLED || !isPromiseLike(result)) return undefined;
    this.#running += 1;
    return Promise.resolve(result).then(this.#handlerReturned, (error: unknown) => {
      this.#handlerReturned();
      this.#handlerFailed(message, error);
    });
  }

  /** Runs the handler inside `mq:process` (only while someone listens); a promise of its outcome. */
  #traceHandler(handler: MessageHandler, message: Message): Promise<void> {
    const { queue, options, errors } = this.#parts;
    const context: ProcessTrace = {
      queue,
      backend: errors.pkg,
      destination: options.name,
      broadcast: options.broadcast,
      message,
      address: this.#parts.address(),
      payloadSize: message.payload.byteLength,
    };
    // The handler's own outcome is awaited, whatever `around` returns; an `around` that throws before running it
    // (a subscriber's bug) falls back to running the handler plainly, so the message is never left unhandled.
    let ran = false;
    let result: unknown;
    const run = (): unknown => {
      ran = true;
      result = handler(queue, message);
      return result;
    };
    return PROCESS_CHANNEL.tracePromise(async () => {
      const { around } = context;
      if (around) {
        try {
          around(run);
        } catch (error) {
          if (ran) throw error;
        }
      }
      if (!ran) run();
      await result;
    }, context);
  }

  readonly #handlerReturned = (): void => {
    this.#running -= 1;
    if (this.#running > 0) return;
    const waiters = this.#idle;
    this.#idle = [];
    for (const wake of waiters) wake();
  };

  #handlerFailed(message: SettleOnceMessage, error: unknown): void {
    this.#policy.failed(message, error, `message handler of '${this.#parts.options.name}' failed`);
  }

  /** Reports a failure of the policy's; the first handler failure nobody hears is also printed, once. */
  #reportHandlerError(failure: MqError): void {
    this.#parts.report(failure);
    // Nobody hears the error: say so once, on stderr, rather than let a worker fail in silence.
    if (
      failure.code === 'HANDLER_FAILED' &&
      !this.#warnedUnheard &&
      this.#parts.errorListeners() === 0 &&
      this.#parts.status() !== 'closed'
    ) {
      this.#warnedUnheard = true;
      process.emitWarning(
        `[${this.#parts.errors.pkg}] the message handler of queue '${this.#parts.options.name}' failed and nothing listens for its 'error' events, so this is the only notice (${failure.message}). Add queue.on('error', ...) to see every failure.`,
        'MqHandlerWarning',
      );
    }
  }
}

/** The largest `concurrency`, as for `prefetch`. */
const MAX_CONCURRENCY = 65_535;

/** Every field of `MessagesOptions`. */
const MESSAGES_OPTION_KEYS = Object.keys({ signal: true } as const satisfies Record<
  keyof MessagesOptions,
  true
>);

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}
