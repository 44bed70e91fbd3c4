import {
  ERROR_CHANNEL,
  type ErrorEvent,
  PROCESS_CHANNEL,
  type ProcessTrace,
  SEND_CHANNEL,
  type SendTrace,
  STATUS_CHANNEL,
  type StatusEvent,
  traced,
} from '../../api/diagnostics.js';
import type { MqError } from '../../api/errors.js';
import { DEFAULT_RECONNECT_MAX_MILLIS } from '../../api/limits.js';
import type { Message } from '../../api/message.js';
import type { MessageHandler, MessagesOptions, Queue, QueueEvents } from '../../api/queue.js';
import type { SendOptions } from '../../api/send-options.js';
import type { Status } from '../../api/status.js';
import type { StatusSource } from '../../api/wait.js';
import { Backoff } from '../backoff.js';
import type { AttachedQueue } from '../connection/base-connection.js';
import { TypedEmitter } from '../emitter.js';
import { needsAttention, type PackageErrors } from '../errors.js';
import { type DeliveredMessage, SETTLED, SettleOnceMessage } from '../message.js';
import type { ResolvedQueueOptions } from '../options/queue-options.js';
import { checkSendOptions, hasMetadata } from '../options/send-options.js';
import { readFields } from '../options/validate.js';
import { StatusCell } from '../status-cell.js';
import { checkHandler, checkPayload } from './arguments.js';
import { FailurePolicy } from './failure-policy.js';
import { InFlightSends, type PendingSend } from './in-flight.js';
import { MessageStream } from './message-stream.js';

/** The connection side a {@link BaseQueue} relies on: its status, and (optionally) queue attachment. */
export interface QueueHost extends StatusSource {
  /** Registers the queue so that closing the connection closes it first. */
  attachQueue?(queue: AttachedQueue): void;
  /** Unregisters the queue. */
  detachQueue?(queue: AttachedQueue): void;
  /** The broker address in use (password redacted), if the connection reports one. */
  readonly address?: string | undefined;
}

/**
 * The queue state machine, for backends to extend. It follows its connection (down to `disconnected` when the
 * connection drops, back to `connected` when it returns), retries failed opens every `reconnectMillis`, runs
 * handlers (a throwing handler becomes an `error` event), tracks sends and handlers so that `close()` waits for
 * them, and validates every call. A backend implements:
 * - `open()`: create the broker-side resources (channel, topology, consumer) on a connected connection;
 * - `publish(payload, send)`: send one message; on a reliable queue it is done on the broker's confirmation;
 * - `stopReceiving()`: stop new deliveries (cancel the consumer), keeping the channel for acks;
 * - `release()`: drop the resources; must not throw when there is nothing to drop;
 * and calls `deliver(message)` for each message, `notifyResourceLost(error)` when its resources die while the
 * connection stays up, and `onLinkDown()` is called when the connection drops.
 */
export abstract class BaseQueue extends TypedEmitter<QueueEvents> implements Queue {
  /** The validated options. */
  readonly options: ResolvedQueueOptions;
  readonly #errors: PackageErrors;
  readonly #host: QueueHost;
  readonly #status = new StatusCell((status) => {
    this.emit('status', status);
    if (STATUS_CHANNEL.hasSubscribers) {
      STATUS_CHANNEL.publish({ kind: 'queue', source: this, name: this.name, status } satisfies StatusEvent);
    }
  });
  #handler: MessageHandler | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  /** Waits between failed opens: doubling from `reconnectMillis`, reset once the queue is connected. */
  #openBackoff: Backoff | undefined;
  /** The last failure that needs attention which was reported, so that the same one is not reported again. */
  #reportedAttention: string | undefined;
  #lastError: MqError | undefined;
  #opening: Promise<void> | undefined;
  /** Counts connection losses, so that an open that straddles one is not trusted. */
  #linkEpoch = 0;
  #closing: Promise<void> | undefined;
  /** Handlers that returned a promise not settled yet, and who waits for there to be none. */
  #running = 0;
  #idle: Array<() => void> = [];
  readonly #sends: InFlightSends;
  /** What a receiver does when a handler fails; undefined on a sender. */
  readonly #policy: FailurePolicy | undefined;

  /** `options` must already be validated (see `resolveQueueOptions`). */
  protected constructor(errors: PackageErrors, options: ResolvedQueueOptions, host: QueueHost) {
    super();
    this.#errors = errors;
    this.options = options;
    this.#host = host;
    this.#sends = new InFlightSends(options.sendTimeoutMillis, () =>
      this.#errors.error(
        'TIMEOUT',
        `send on '${options.name}' not confirmed within ${options.sendTimeoutMillis} ms (sendTimeoutMillis): the broker may or may not have it`,
      ),
    );
    const queue = this;
    this.#policy = options.isRecv
      ? new FailurePolicy(options.failure, {
          errors,
          name: options.name,
          get requeuesBehind() {
            return queue.requeuesBehind;
          },
          republish: (to, message, sendOptions) => this.#republish(to, message, sendOptions),
          report: (error) => this.#reportHandlerError(error),
        })
      : undefined;
  }

  /** The queue name. */
  get name(): string {
    return this.options.name;
  }

  /** True for a receiver. */
  get isRecv(): boolean {
    return this.options.isRecv;
  }

  /** The current status. */
  get status(): Status {
    return this.#status.value;
  }

  /** Sets the handler for received messages; must be called on a receiver before `connect()`. */
  setMsgHandler(handler: MessageHandler): void {
    if (!this.isRecv) {
      throw this.#errors.error(
        'HANDLER_ON_SENDER',
        `queue '${this.name}' is a sender: setMsgHandler() is for receivers (isRecv: true)`,
      );
    }
    checkHandler(this.#errors, handler);
    this.#handler = handler;
  }

  /** Starts opening the queue in the background; does nothing unless `closed`. */
  connect(): void {
    if (this.#status.value !== 'closed') return;
    if (this.isRecv && !this.#handler) {
      throw this.#errors.error(
        'NO_HANDLER',
        `queue '${this.name}' is a receiver: call setMsgHandler() before connect()`,
      );
    }
    const deadLetter = this.options.isRecv ? this.options.failure.deadLetter : undefined;
    if (deadLetter !== undefined && !this.deadLetters) {
      throw this.#errors.error(
        'UNSUPPORTED',
        `queue '${this.name}' cannot move messages to a dead-letter queue (deadLetter '${deadLetter}')${this.deadLetterHint}`,
      );
    }
    this.#policy?.restart();
    this.#host.attachQueue?.(this);
    this.#host.on('status', this.#onHostStatus);
    this.#setStatus('connecting');
    if (this.#host.status === 'connected') this.#attempt();
  }

  /** Stops receiving, waits for running handlers and in-flight sends, releases the queue; idempotent. */
  close(): Promise<void> {
    if (this.#status.value === 'closed') return Promise.resolve();
    this.#closing ??= this.#close().finally(() => {
      this.#closing = undefined;
    });
    return this.#closing;
  }

  /**
   * A closed receiver without handler, connected, its messages yielded to a `for await` loop (see the `Queue`
   * interface's `messages()`).
   */
  messages(options: MessagesOptions = {}): AsyncIterableIterator<Message> {
    if (!this.isRecv) {
      throw this.#errors.error(
        'HANDLER_ON_SENDER',
        `queue '${this.name}' is a sender: messages() is for receivers (isRecv: true)`,
      );
    }
    const fields = readFields(this.#errors, options, {
      what: 'messages() options',
      keys: MESSAGES_OPTION_KEYS,
      complaint: 'argument',
    });
    const signal = fields.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw this.#errors.error('INVALID_ARGUMENT', `messages() options.signal must be an AbortSignal`);
    }
    if (this.#handler || this.#status.value !== 'closed') {
      throw this.#errors.error(
        'INVALID_ARGUMENT',
        `queue '${this.name}': messages() takes a closed receiver without handler (it sets its own and connects); this one ${this.#handler ? 'has a handler' : `is ${this.#status.value}`}`,
      );
    }
    let handler: MessageHandler | undefined;
    // Before the stream exists: one made with an aborted signal ends at once, and its end undoes this.
    if (this.#policy) this.#policy.deferAckDeadline = true;
    const stream = new MessageStream(
      {
        errors: this.#errors,
        name: this.name,
        close: () => this.close(),
        taken: (message) => this.#policy?.startAckDeadline(message as SettleOnceMessage),
        ended: () => {
          if (handler !== undefined && this.#handler === handler) this.#handler = undefined;
          if (this.#policy) this.#policy.deferAckDeadline = false;
        },
        subscribe: (onStatus, onError) => {
          this.on('status', onStatus).on('error', onError);
          return () => this.off('status', onStatus).off('error', onError);
        },
      },
      signal,
    );
    handler = (_queue, message) => stream.push(message);
    this.#handler = handler;
    if (signal?.aborted) {
      this.#handler = undefined;
      return stream;
    }
    try {
      this.connect();
    } catch (error) {
      this.#handler = undefined;
      void stream.return();
      throw error;
    }
    return stream;
  }

  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Sends one message (with `options`' metadata); on a reliable queue resolves once the broker confirmed it. Not copied. */
  sendMsg(payload: Uint8Array, options?: SendOptions): Promise<void> {
    let checked: SendOptions | undefined;
    try {
      checkPayload(this.#errors, payload);
      checked =
        options === undefined ? undefined : checkSendOptions(this.#errors, options, this.reservedHeaders);
    } catch (error) {
      return Promise.reject(error);
    }
    if (!this.carriesMetadata && hasMetadata(checked)) {
      return Promise.reject(
        this.#errors.error(
          'UNSUPPORTED',
          `queue '${this.name}' cannot carry message metadata (headers, ids, content type, expiration)${this.metadataHint}`,
        ),
      );
    }
    if (this.isRecv) {
      return Promise.reject(
        this.#errors.error('SEND_ON_RECEIVER', `queue '${this.name}' is a receiver and cannot send`),
      );
    }
    if (!traced(SEND_CHANNEL)) return this.#send(payload, checked);
    const carries = this.carriesMetadata;
    const context: SendTrace = {
      queue: this,
      backend: this.#errors.pkg,
      destination: this.name,
      broadcast: this.options.broadcast,
      reliable: this.options.reliable,
      payloadSize: payload.byteLength,
      address: this.#host.address,
      options: { ...checked, headers: { ...checked?.headers } },
      carriesMetadata: carries,
    };
    // Headers the `start` subscribers added go out only where metadata does (and are checked like the app's).
    return SEND_CHANNEL.tracePromise(
      () => this.#send(payload, carries ? this.#withInjected(checked, context) : checked),
      context,
    );
  }

  /**
   * The app's options plus the headers `start` subscribers added, when those pass the same checks; otherwise the
   * app's options alone: tracing never makes a send fail (a subscriber's header too many, say, is dropped).
   */
  #withInjected(checked: SendOptions | undefined, context: SendTrace): SendOptions | undefined {
    const injected = context.options.headers;
    if (Object.keys(injected).length === Object.keys(checked?.headers ?? {}).length) return checked;
    try {
      return checkSendOptions(
        this.#errors,
        { ...checked, headers: { ...injected, ...checked?.headers } },
        this.reservedHeaders,
      );
    } catch {
      return checked;
    }
  }

  #send(payload: Uint8Array, checked: SendOptions | undefined): Promise<void> {
    if (this.#status.value !== 'connected') {
      return Promise.reject(
        this.#errors.error(
          'NOT_CONNECTED',
          `queue '${this.name}' is ${this.#status.value}, not connected: message not sent`,
        ),
      );
    }
    const send = this.#sends.begin();
    try {
      this.publish(payload, send, checked);
    } catch (error) {
      send.reject(this.#errors.wrap(error, 'BROKER', `send on '${this.name}' failed`));
    }
    // Settled inside publish() (a best-effort write the socket took at once): nothing for close() or the deadline.
    return this.#sends.watch(send);
  }

  /** Creates the broker-side resources; called only while the connection is `connected`. */
  protected abstract open(): Promise<void>;

  /**
   * Sends one message (already validated) and settles `send`: `send.resolve()` once it is done (written, or
   * confirmed by the broker on a reliable queue), `send.reject(error)` when it failed, now or later; a backend
   * with a promise in hand calls `send.follow(promise)`. Throwing rejects the send. Whatever the backend does,
   * the send is rejected for it at its deadline (`sendTimeoutMillis`) and when the connection drops (see
   * `failPendingSends()`); later calls on `send` do nothing.
   */
  protected abstract publish(payload: Uint8Array, send: PendingSend, options?: SendOptions): void;

  /**
   * True when `publish()` carries `SendOptions` metadata; while false (the default, for backends written before
   * metadata existed), a send with any metadata rejects with `UNSUPPORTED` instead of losing it silently.
   */
  protected get carriesMetadata(): boolean {
    return false;
  }

  /** Said after the `UNSUPPORTED` of a send with metadata, e.g. `: MQTT 3.1.1 has no message properties`. */
  protected get metadataHint(): string {
    return '';
  }

  /** Header names (lower case) the backend keeps for itself, refused in `SendOptions.headers`. */
  protected get reservedHeaders(): ReadonlySet<string> {
    return NO_RESERVED_HEADERS;
  }

  /**
   * True when `republish(undefined, ...)` puts a copy of a received message behind the messages already waiting
   * for this receiver (AMQP: the tail of its queue): the failure policy then retries by republishing, so that the
   * others go first. False (the default): it waits out the delay holding the message, then nacks it.
   */
  protected get requeuesBehind(): boolean {
    return false;
  }

  /** True when `republish(queue, ...)` reaches the unicast queue `queue`, so that `deadLetter` can be offered. */
  protected get deadLetters(): boolean {
    return false;
  }

  /** Said after the `UNSUPPORTED` of a receiver given `deadLetter` where it cannot have one. */
  protected get deadLetterHint(): string {
    return '';
  }

  /**
   * For the failure policy: publishes a copy of `message` (its payload, with `options`' metadata) to this
   * receiver's own source (`to` undefined: its unicast queue, or its own broadcast subscription) or to the
   * unicast queue `to`, and settles `send` once the broker has taken it (confirmed), as `publish()` does; core
   * acks the original only then. Default: rejects with `UNSUPPORTED` (see `requeuesBehind`, `deadLetters`).
   */
  protected republish(
    to: string | undefined,
    _message: Message,
    send: PendingSend,
    _options: SendOptions,
  ): void {
    send.reject(
      this.#errors.error('UNSUPPORTED', `queue '${this.name}' cannot republish to ${to ?? 'itself'}`),
    );
  }

  /** A tracked, deadline-bound republish (see `republish()`), on a queue that is connected or closing. */
  #republish(to: string | undefined, message: SettleOnceMessage, options: SendOptions): Promise<void> {
    const status = this.#status.value;
    // `connecting` too: a backlog is delivered before open() returns, and its failures are retried like others.
    if (status !== 'connected' && status !== 'connecting' && status !== 'closing') {
      return Promise.reject(
        this.#errors.error('NOT_CONNECTED', `queue '${this.name}' is ${status}: cannot republish`),
      );
    }
    const send = this.#sends.begin();
    try {
      this.republish(to, message, send, options);
    } catch (error) {
      send.reject(this.#errors.wrap(error, 'BROKER', `republishing on '${this.name}' failed`));
    }
    return this.#sends.watch(send);
  }

  /**
   * Rejects every send still waiting for the broker with `error`: call it when what carries them is gone while
   * the connection stays up (a channel the broker closed, say). A dropped connection does it by itself.
   */
  protected failPendingSends(error: MqError): void {
    this.#sends.failAll(error);
  }

  /** Stops new deliveries; called first on close. Default: nothing to do. */
  protected async stopReceiving(): Promise<void> {}

  /** Drops the broker-side resources and rejects what is pending; called last on close. */
  protected abstract release(): Promise<void>;

  /**
   * Called when the connection drops, and when an `open()` finishes on a link that has dropped since: forget
   * the dead resources, reject pending sends. May run more than once. Not called after `notifyResourceLost()` (the
   * backend already knows), so `open()` must also clear leftovers of an earlier attempt. Default: nothing.
   */
  protected onLinkDown(): void {}

  /**
   * The backend calls this for each received message; the failure policy admits it (a retried copy may wait for
   * its time, one delivered `maxDeliveries` times is given up on), then the handler runs and is tracked for
   * `close()`. A message without `headers` or `redelivered` (from a backend written before metadata existed)
   * gets `{}` and `false`.
   */
  protected deliver(incoming: DeliveredMessage): void {
    const policy = this.#policy;
    if (!this.#handler || !policy) return;
    const message =
      incoming instanceof SettleOnceMessage
        ? incoming
        : new SettleOnceMessage(
            incoming.payload,
            (requeue) => (requeue ? incoming.nack() : incoming.ack()),
            incoming,
          );
    if (policy.passes(message)) this.#run(message);
    else policy.admit(message, this.#run);
  }

  /** Runs the handler on one message. */
  readonly #run = (message: SettleOnceMessage): void => {
    const handler = this.#handler;
    if (!handler) return;
    // The handler runs synchronously, as it would inside an async wrapper, but only a handler that returns a
    // promise costs a promise and a place in the count close() waits for: this is the hot path of every receiver.
    let result: unknown;
    try {
      result = traced(PROCESS_CHANNEL) ? this.#traceHandler(handler, message) : handler(this, message);
    } catch (error) {
      this.#handlerFailed(message, error);
      return;
    }
    // SETTLED (e.g. `return message.ack()` with nothing left to do) is already done: nothing to track.
    if (result === SETTLED || !isPromiseLike(result)) return;
    this.#running += 1;
    Promise.resolve(result).then(this.#handlerReturned, (error: unknown) => {
      this.#handlerReturned();
      this.#handlerFailed(message, error);
    });
  };

  /** Runs the handler inside `mq:process` (only while someone listens); a promise of its outcome. */
  #traceHandler(handler: MessageHandler, message: Message): Promise<void> {
    const context: ProcessTrace = {
      queue: this,
      backend: this.#errors.pkg,
      destination: this.name,
      broadcast: this.options.broadcast,
      message,
      address: this.#host.address,
      payloadSize: message.payload.byteLength,
    };
    // The handler's own outcome is awaited, whatever `around` returns; an `around` that throws before running it
    // (a subscriber's bug) falls back to running the handler plainly, so the message is never left unhandled.
    let ran = false;
    let result: unknown;
    const run = (): unknown => {
      ran = true;
      result = handler(this, message);
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

  /** Resolves once no handler is running. */
  #handlersIdle(): Promise<void> {
    if (this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #handlerFailed(message: SettleOnceMessage, error: unknown): void {
    this.#policy?.failed(message, error, `message handler of '${this.name}' failed`);
  }

  /** Reports a failure of the policy's; the first handler failure nobody hears is also printed, once. */
  #reportHandlerError(failure: MqError): void {
    this.reportError(failure);
    // Nobody hears the error: say so once, on stderr, rather than let a worker fail in silence.
    if (
      failure.code === 'HANDLER_FAILED' &&
      !this.#warnedUnheard &&
      this.listenerCount('error') === 0 &&
      this.#status.value !== 'closed'
    ) {
      this.#warnedUnheard = true;
      process.emitWarning(
        `[${this.#errors.pkg}] the message handler of queue '${this.name}' failed and nothing listens for its 'error' events, so this is the only notice (${failure.message}). Add queue.on('error', ...) to see every failure.`,
        'MqHandlerWarning',
      );
    }
  }

  /** Whether the one warning about handler failures nobody listens for was given. */
  #warnedUnheard = false;

  /**
   * The backend calls this when its resources die while the connection stays up (e.g. a channel closed by the
   * broker). A connection loss wins: a dying connection often closes its channels just before it reports its
   * own loss, so this waits one turn of the event loop and does nothing if the connection dropped meanwhile
   * (the queue then goes `disconnected` through `onLinkDown()`, once). No backend needs to order those events.
   */
  protected notifyResourceLost(error: unknown): void {
    if (this.#status.value !== 'connected' && this.#status.value !== 'connecting') return;
    const epoch = this.#linkEpoch;
    setImmediate(() => {
      if (epoch !== this.#linkEpoch) return;
      if (this.#status.value !== 'connected' && this.#status.value !== 'connecting') return;
      this.reportError(this.#errors.wrap(error, 'BROKER', `queue '${this.name}' lost its broker resources`));
      // An `error` listener may have closed the queue meanwhile.
      if (this.#status.value !== 'connected' && this.#status.value !== 'connecting') return;
      this.#setStatus('disconnected');
      this.#scheduleRetry();
    });
  }

  /** Emits an `error`, unless the queue is closed (nothing is emitted after `closed`). */
  protected reportError(error: MqError): void {
    if (this.#status.value === 'closed') return;
    this.#lastError = error;
    if (ERROR_CHANNEL.hasSubscribers) {
      ERROR_CHANNEL.publish({ kind: 'queue', source: this, name: this.name, error } satisfies ErrorEvent);
    }
    this.emit('error', error);
  }

  /** The last error reported since the queue was last `connected` (for a wait that times out to show why). */
  get lastError(): MqError | undefined {
    return this.#lastError;
  }

  readonly #onHostStatus = (hostStatus: Status): void => {
    if (hostStatus === 'connected') {
      if (this.#status.value === 'disconnected') this.#setStatus('connecting');
      if (this.#status.value === 'connecting') this.#attempt();
      return;
    }
    // A closing connection closes its queues itself, gracefully, while the link still works (handlers can ack).
    if (hostStatus === 'closing') return;
    // An attempt starting (from closed, or from disconnected, which was handled when it came) loses no link.
    if (hostStatus === 'connecting') return;
    this.#linkEpoch += 1;
    // The link is gone, and with it every answer a pending send waits for (also while this queue closes).
    if (this.#sends.size > 0) {
      this.#sends.failAll(
        this.#errors.error(
          'CONNECTION_LOST',
          `the connection dropped before the broker took a message sent on '${this.name}': it may or may not have it`,
        ),
      );
    }
    if (
      this.#status.value === 'connected' ||
      this.#status.value === 'connecting' ||
      this.#status.value === 'disconnected'
    ) {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = undefined;
      if (this.#status.value !== 'disconnected') {
        this.#setStatus('disconnected');
        this.onLinkDown();
      }
    }
  };

  #attempt(): void {
    if (this.#opening) return;
    const epoch = this.#linkEpoch;
    const opening: Promise<void> = this.open()
      .then(
        () => {
          if (epoch !== this.#linkEpoch) {
            // Opened on a link that has dropped since: forget those resources (close() releases them itself).
            if (this.#status.value !== 'closing') this.onLinkDown();
            return;
          }
          if (this.#status.value === 'connecting') {
            this.#openBackoff?.reset();
            this.#reportedAttention = undefined;
            this.#lastError = undefined;
            this.#setStatus('connected');
          }
        },
        (error: unknown) => {
          if (this.#status.value !== 'connecting' || epoch !== this.#linkEpoch) return;
          const failure = this.#errors.wrap(error, 'BROKER', `opening queue '${this.name}' failed`);
          // A failure retrying cannot fix is reported once, until it changes or the queue opens.
          const attention = needsAttention(failure) ? `${failure.code} ${failure.message}` : undefined;
          if (attention === undefined || attention !== this.#reportedAttention) this.reportError(failure);
          this.#reportedAttention = attention;
          // An `error` listener may have closed the queue meanwhile.
          if (this.#status.value !== 'connecting') return;
          this.#setStatus('disconnected');
          const { reconnectMillis } = this.options;
          this.#openBackoff ??= new Backoff({
            reconnectMillis,
            reconnectMaxMillis: Math.max(DEFAULT_RECONNECT_MAX_MILLIS, reconnectMillis),
          });
          this.#scheduleRetry(this.#openBackoff.next());
        },
      )
      .finally(() => {
        this.#opening = undefined;
        // The connection came back while this attempt was running on the old link: try again on the new one.
        if (this.#status.value === 'connecting' && this.#host.status === 'connected') this.#attempt();
      });
    this.#opening = opening;
  }

  #scheduleRetry(delay = this.options.reconnectMillis): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    // A `disconnected` listener may have closed the queue already: no timer may outlive the close.
    if (this.#status.value !== 'disconnected') return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#status.value !== 'disconnected' || this.#host.status !== 'connected') return;
      this.#setStatus('connecting');
      this.#attempt();
    }, delay);
  }

  async #close(): Promise<void> {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    // Opened again, the queue reports every failure afresh and retries quickly at first.
    this.#reportedAttention = undefined;
    this.#openBackoff?.reset();
    this.#setStatus('closing');
    // Messages waiting for a retry or a held copy's time stay unacked: the broker hands them out again.
    this.#policy?.stop();
    await this.#opening;
    await this.#settle(() => this.stopReceiving());
    while (this.#running > 0 || this.#sends.size > 0 || this.#policy?.moving) {
      await Promise.all([this.#handlersIdle(), this.#sends.allSettled(), this.#policy?.idle()]);
    }
    await this.#settle(() => this.release());
    this.#host.off('status', this.#onHostStatus);
    this.#host.detachQueue?.(this);
    this.#setStatus('closed');
  }

  async #settle(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      this.reportError(this.#errors.wrap(error, 'BROKER', `closing queue '${this.name}' failed`));
    }
  }

  #setStatus(next: Status): void {
    this.#status.set(next);
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}

const NO_RESERVED_HEADERS: ReadonlySet<string> = new Set();

/** Every field of `MessagesOptions`. */
const MESSAGES_OPTION_KEYS = Object.keys({ signal: true } as const satisfies Record<
  keyof MessagesOptions,
  true
>);
