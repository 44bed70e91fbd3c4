import type { Sendable } from '../../api/codec.js';
import type { Connection } from '../../api/connection.js';
import { ERROR_CHANNEL, type ErrorEvent, STATUS_CHANNEL, type StatusEvent } from '../../api/diagnostics.js';
import type { MqError } from '../../api/errors.js';
import type { QueueHealth } from '../../api/health.js';
import type { Message } from '../../api/message.js';
import type { MessageHandler, MessagesOptions, Queue, QueueEvents } from '../../api/queue.js';
import type { Reply, RequestOptions } from '../../api/reply.js';
import type { SendOptions } from '../../api/send-options.js';
import type { Status } from '../../api/status.js';
import { TypedBodies } from '../codec/typed-body.js';
import { attachQueue, detachQueue, queuesOf } from '../connection/attachments.js';
import type { PackageErrors } from '../errors.js';
import { queueHealth } from '../health.js';
import { emitOn, Observed } from '../observed.js';
import type { ResolvedQueueOptions } from '../options/queue-options.js';
import type { Traits } from '../traits.js';
import { checkPayload } from './arguments.js';
import { QueueLifecycle } from './lifecycle.js';
import type { QueueCore, QueueDriver, QueueDriverFactory } from './queue-driver.js';
import { ReceivePath } from './receive-path.js';
import { RequestPath } from './requests.js';
import { SendPath } from './send-path.js';

/** What a queue class passes to `BaseQueue`'s constructor. */
export interface QueueSetup<O extends ResolvedQueueOptions = ResolvedQueueOptions> {
  /** The backend's errors. */
  readonly errors: PackageErrors;
  /** The validated options (see `resolveQueueOptions`). */
  readonly options: O;
  /** The queue's connection, made by the same backend. */
  readonly connection: Connection;
  /** What the backend can do on this connection (its traits, narrowed for the connection where needed). */
  readonly traits: Traits;
  /** Makes the driver of each `connect()`..`closed` cycle. */
  readonly driver: QueueDriverFactory<O>;
}

/**
 * A sender or receiver, for backends to extend: a backend's queue class passes its driver factory and traits to
 * this constructor (see `QueueSetup`) and keeps only its own public members. Core follows the connection
 * (down to `disconnected` when it drops, back to `connected` when it returns), retries failed opens, checks
 * every call, runs and tracks handlers with the failure policy, bounds every send, and closes in order; the
 * work is split by job into the state machine (`QueueLifecycle`), the send path and the receive path. `T` is the
 * body type (see the option `codec`).
 */
export abstract class BaseQueue<O extends ResolvedQueueOptions = ResolvedQueueOptions, T = Buffer>
  extends Observed<QueueEvents>
  implements Queue<T>
{
  /** The validated options. */
  readonly options: O;
  readonly #errors: PackageErrors;
  readonly #host: Connection;
  readonly #traits: Traits;
  readonly #lifecycle: QueueLifecycle;
  readonly #sending: SendPath;
  /** The codec and schema of bodies. */
  readonly #bodies: TypedBodies;
  readonly #requests: RequestPath;
  /** A receiver's deliveries; undefined on a sender. */
  readonly #receiving: ReceivePath | undefined;
  /** Ends the current cycle's `QueueCore`: a driver of an earlier cycle can no longer act on this queue. */
  #endCycle: () => void = () => {};
  /** When the status last changed (`Date.now()`), for `health()`. */
  #statusSince = Date.now();

  /** Sets up a closed queue from what its class resolved (see `QueueSetup`). */
  protected constructor(setup: QueueSetup<O>) {
    super();
    const { errors, options, connection, traits } = setup;
    this.options = options;
    this.#errors = errors;
    this.#host = connection;
    this.#traits = traits;
    // Here, whoever constructs the queue (an app's `new`, or `createQueue`): an option the backend cannot honour
    // is refused at once, never accepted and ignored.
    this.#refuseUnsupported();
    this.#bodies = new TypedBodies(errors, options.name, options.codec, options.schema);
    this.#lifecycle = new QueueLifecycle({
      errors,
      name: options.name,
      reconnectMillis: options.reconnectMillis,
      closeTimeoutMillis: options.closeTimeoutMillis,
      host: connection,
      emitStatus: (status) => this.#emitStatus(status),
      emitError: (error) => this.#emitError(error),
      newDriver: () => this.#newDriver(setup.driver),
      joined: (joined) => this.#joined(joined),
      linkGone: () => {
        this.#sending.linkGone();
        this.#requestsLost();
      },
      stopping: () => {
        this.#sending.closing();
        this.#receiving?.stop();
      },
      drained: () => this.#drained(),
      abandon: () => this.#abandon(),
    });
    this.#sending = new SendPath({
      errors,
      options,
      queue: this as Queue<unknown> as Queue,
      carriesMetadata: traits.metadata === true,
      metadataHint: hint(traits, 'metadata'),
      reservedHeaders: reservedHeadersOf(traits),
      link: this.#lifecycle,
      address: () => this.#host.address,
    });
    this.#requests = new RequestPath({
      errors,
      options,
      supported: traits.requestReply === true,
      unsupportedHint: hint(traits, 'requestReply'),
      link: this.#lifecycle,
      check: (sendOptions) => this.#sending.checkOptions(sendOptions),
      checkPayload: (payload) => checkPayload(errors, payload),
      sendChecked: (payload, sendOptions) => this.#sending.sendChecked(payload, sendOptions),
    });
    this.#receiving = options.isRecv
      ? new ReceivePath({
          errors,
          options,
          queue: this as Queue<unknown> as Queue,
          bodies: this.#bodies,
          connection,
          requeuesBehind: traits.requeuesBehind === true,
          status: () => this.#lifecycle.status,
          address: () => this.#host.address,
          errorListeners: () => this.listenerCount('error'),
          republish: (to, message, sendOptions) => this.#sending.republish(to, message, sendOptions),
          reply: (to, correlationId, payload, sendOptions) =>
            this.#sending.reply(to, correlationId, payload, sendOptions),
          report: (error) => this.#lifecycle.reportError(error),
          connect: () => this.connect(),
          close: () => this.close(),
          subscribe: (onStatus, onError) => {
            this.on('status', onStatus).on('error', onError);
            return () => this.off('status', onStatus).off('error', onError);
          },
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
    return this.#lifecycle.status;
  }

  /** The last error reported since the queue was last `connected` (for a wait that times out to show why). */
  get lastError(): MqError | undefined {
    return this.#lifecycle.lastError;
  }

  /** Sets the handler for received messages; must be called on a receiver before `connect()`. */
  setMsgHandler(handler: MessageHandler<T>): void {
    this.#receiver('setMsgHandler()').setHandler(handler as MessageHandler<unknown> as MessageHandler);
  }

  /** Runs at most `concurrency` handlers at once from now on (receivers; see the option). */
  setConcurrency(concurrency: number): void {
    this.#receiver('setConcurrency()').setConcurrency(concurrency);
  }

  /** Starts opening the queue in the background; does nothing unless `closed`. */
  connect(): void {
    if (this.#lifecycle.status !== 'closed') return;
    const receiving = this.#receiving;
    if (receiving && !receiving.hasHandler) {
      throw this.#errors.error(
        'NO_HANDLER',
        `queue '${this.name}' is a receiver: call setMsgHandler() before connect()`,
      );
    }
    this.#refuseSecondReceiver();
    receiving?.start();
    this.#lifecycle.start();
  }

  /** Stops receiving, waits for running handlers and in-flight sends, releases the queue; idempotent. */
  close(): Promise<void> {
    if (this.#requests.pending > 0) {
      this.#requests.failAll(
        this.#errors.error('CLOSED', `queue '${this.name}' was closed before the reply to a request came`),
      );
    }
    return this.#lifecycle.close();
  }

  /**
   * A closed receiver without handler, connected, its messages yielded to a `for await` loop (see the `Queue`
   * interface's `messages()`).
   */
  messages(options: MessagesOptions = {}): AsyncIterableIterator<Message<T>> {
    return this.#receiver('messages()').messages(options) as AsyncIterableIterator<
      Message<unknown>
    > as AsyncIterableIterator<Message<T>>;
  }

  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Sends one body (checked by the schema, encoded by the codec) with `options`' metadata; on a reliable queue
   * resolves once the broker confirmed it. A `'bytes'` body is not copied.
   */
  sendMsg(body: Sendable<T>, options?: SendOptions): Promise<void> {
    const bodies = this.#bodies;
    if (bodies.passesThrough) return this.#sending.send(body as Uint8Array, options);
    try {
      const encoded = bodies.encode(body, options, this.#traits.metadata === true);
      if (encoded instanceof Promise) {
        return encoded.then(({ payload, options: sent }) => this.#sending.send(payload, sent));
      }
      return this.#sending.send(encoded.payload, encoded.options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Sends a request and resolves with its reply (see the `Queue` interface's `request()`). */
  request(payload: Uint8Array, options?: RequestOptions): Promise<Reply> {
    return this.#requests.request(payload, options);
  }

  /** The queue's health now: status, consumer attached at the broker, last delivery, work in flight. */
  health(): QueueHealth {
    const receiving = this.#receiving;
    const driver = this.#lifecycle.driver;
    return queueHealth({
      name: this.name,
      isRecv: this.isRecv,
      status: this.#lifecycle.status,
      statusSince: this.#statusSince,
      // Connected means the driver's open() put the consumer or subscription in place; a driver that can lose it
      // without the queue going down (a consumer the broker cancelled) says so itself.
      attached: receiving
        ? this.#lifecycle.status === 'connected' && (driver?.attached?.() ?? true)
        : undefined,
      lastDeliveryAt: receiving?.lastDeliveryAt,
      handlersRunning: receiving?.running ?? 0,
      // Buffered sends count in `pending` too, from the moment they are held.
      sendsInFlight: this.#sending.pending - this.#sending.waiting,
      sendsBuffered: this.#sending.waiting,
      bufferedBytes: this.#sending.waitingBytes,
      requestsPending: this.#requests.pending,
      lastError: this.#lifecycle.lastError,
    });
  }

  /** Replies dropped because no request of theirs was waiting (any more). */
  get droppedReplies(): number {
    return this.#requests.dropped;
  }

  /** The link or the driver's resources are gone, and with them whatever received the replies. */
  #requestsLost(): void {
    if (this.#requests.pending === 0) return;
    this.#requests.failAll(
      this.#errors.error(
        'CONNECTION_LOST',
        `the link of '${this.name}' dropped before the reply to a request came: the server may or may not have answered`,
      ),
    );
  }

  /** The receive path, or `HANDLER_ON_SENDER` for a call only receivers take. */
  #receiver(call: string): ReceivePath {
    if (this.#receiving) return this.#receiving;
    throw this.#errors.error(
      'HANDLER_ON_SENDER',
      `queue '${this.name}' is a sender: ${call} is for receivers (isRecv: true)`,
    );
  }

  /** Refuses the options the traits rule out (`UNSUPPORTED`, saying why where the traits do). */
  #refuseUnsupported(): void {
    const { options } = this;
    const traits = this.#traits;
    if (options.broadcast && traits.broadcast !== true) {
      throw this.#errors.error(
        'UNSUPPORTED',
        `broadcast queues are not supported by this backend (capability broadcast is false)${hint(traits, 'broadcast')}: use a unicast queue`,
      );
    }
    if (options.routing === 'topic' && traits.topicRouting !== true) {
      throw this.#errors.error(
        'UNSUPPORTED',
        `topic routing (routing: 'topic') is not supported by this backend (capability topicRouting is false)${hint(traits, 'topicRouting')}: use routing 'queue'`,
      );
    }
    if (!options.isRecv) return;
    const { maxDeliveries, deadLetter } = options.failure;
    if (maxDeliveries !== undefined && traits.countsDeliveries !== true) {
      throw this.#errors.error(
        'UNSUPPORTED',
        `maxDeliveries is not supported by this backend (capability countsDeliveries is false: it cannot tell how often a message was delivered)${hint(traits, 'countsDeliveries')}`,
      );
    }
    if (deadLetter !== undefined && traits.deadLetter !== true) {
      throw this.#errors.error(
        'UNSUPPORTED',
        `queue '${this.name}' cannot move messages to a dead-letter queue (deadLetter '${deadLetter}')${hint(traits, 'deadLetter')}`,
      );
    }
  }

  /** A backend whose receivers of one name cannot share a connection refuses a second one there. */
  #refuseSecondReceiver(): void {
    if (!this.isRecv || this.#traits.sameConnectionReceivers !== false) return;
    const other = queuesOf(this.#host).some(
      (queue) => queue !== this && queue.isRecv && queue.name === this.name,
    );
    if (!other) return;
    throw this.#errors.error(
      'UNSUPPORTED',
      `this connection already has a receiver for '${this.name}'${hint(this.#traits, 'sameConnectionReceivers')}: use one connection per receiver of the same name`,
    );
  }

  /** The driver of one `connect()`..`closed` cycle, with the `QueueCore` of that cycle. */
  #newDriver(make: QueueDriverFactory<O>): QueueDriver {
    let live = true;
    this.#endCycle = () => {
      live = false;
    };
    const lifecycle = this.#lifecycle;
    const core: QueueCore<O> = {
      options: this.options,
      get status() {
        return lifecycle.status;
      },
      // Deliveries are handled whenever they come: a handler set on a closed receiver still settles them.
      deliver: this.#receiving?.deliver ?? ignoreDelivery,
      resourceLost: (error) => {
        if (!live) return;
        this.#requestsLost();
        lifecycle.resourceLost(error);
      },
      failPendingSends: (error) => {
        if (!live) return;
        this.#sending.failAll(error);
        if (this.#requests.pending > 0) this.#requests.failAll(error);
      },
      deliverReply: (reply) => {
        if (live) this.#requests.deliver(reply);
      },
      reportError: (error) => {
        if (live) lifecycle.reportError(error);
      },
    };
    return make(core);
  }

  #joined(joined: boolean): void {
    if (joined) {
      attachQueue(this.#host, this);
      return;
    }
    detachQueue(this.#host, this);
    this.#endCycle();
  }

  /** Resolves once no handler, send or failure-policy copy is left running. */
  async #drained(): Promise<void> {
    while (this.#receiving?.busy || this.#sending.pending > 0) {
      await Promise.all([this.#receiving?.idle(), this.#sending.settled()]);
    }
  }

  /** What `close()` gives up on at `closeTimeoutMillis`: sends still pending reject with `CLOSED`. */
  #abandon(): string {
    const handlers = this.#receiving?.running ?? 0;
    const sends = this.#sending.pending;
    const copies = this.#receiving?.busy === true && handlers === 0;
    if (sends > 0) {
      this.#sending.failAll(
        this.#errors.error(
          'CLOSED',
          `queue '${this.name}' was closed (closeTimeoutMillis ${this.options.closeTimeoutMillis}) before the broker confirmed the message: it may or may not have it`,
        ),
        true,
      );
    }
    const parts = [
      ...(handlers > 0 ? [`${handlers} handler${handlers === 1 ? '' : 's'} still running`] : []),
      ...(sends > 0 ? [`${sends} send${sends === 1 ? '' : 's'} not settled (rejected with CLOSED)`] : []),
      ...(copies ? ["the failure policy's copies in flight"] : []),
    ];
    return parts.length > 0 ? parts.join(', ') : 'work that finished meanwhile';
  }

  #emitStatus(status: Status): void {
    this.#statusSince = Date.now();
    // The sends that waited for the link go first, before any a `connected` listener makes.
    if (status === 'connected') this.#sending.linkUp();
    emitOn<QueueEvents, 'status'>(this, 'status', status);
    if (STATUS_CHANNEL.hasSubscribers) {
      STATUS_CHANNEL.publish({ kind: 'queue', source: this, name: this.name, status } satisfies StatusEvent);
    }
  }

  #emitError(error: MqError): void {
    if (ERROR_CHANNEL.hasSubscribers) {
      ERROR_CHANNEL.publish({ kind: 'queue', source: this, name: this.name, error } satisfies ErrorEvent);
    }
    emitOn<QueueEvents, 'error'>(this, 'error', error);
  }
}

/** A sender's `QueueCore.deliver`: a sender has no deliveries to handle. */
function ignoreDelivery(): void {}

/** `: <why>` for a capability the traits declare false with a reason, else nothing. */
function hint(traits: Traits, capability: keyof NonNullable<Traits['reasons']>): string {
  const why = traits.reasons?.[capability];
  return why === undefined ? '' : `: ${why}`;
}

/** The reserved header names of each traits object, as a set (made once per traits object). */
const RESERVED = new WeakMap<Traits, ReadonlySet<string>>();

function reservedHeadersOf(traits: Traits): ReadonlySet<string> {
  let reserved = RESERVED.get(traits);
  if (!reserved) {
    reserved = new Set((traits.reservedHeaders ?? []).map((name) => name.toLowerCase()));
    RESERVED.set(traits, reserved);
  }
  return reserved;
}
