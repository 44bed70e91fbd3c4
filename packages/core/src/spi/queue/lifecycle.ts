import type { MqError } from '../../api/errors.js';
import { DEFAULT_RECONNECT_MAX_MILLIS } from '../../api/limits.js';
import type { Status } from '../../api/status.js';
import type { StatusSource } from '../../api/wait.js';
import { Backoff } from '../backoff.js';
import { type PackageErrors, reportedOnce } from '../errors.js';
import { StatusCell } from '../status-cell.js';
import type { QueueDriver } from './queue-driver.js';

/** The connection side a queue relies on: its status and status events, and the broker address it reports. */
export interface QueueHost extends StatusSource {
  /** The broker address in use (password redacted), if the connection reports one. */
  readonly address?: string | undefined;
}

/** What the queue's state machine needs from the rest of the queue. */
export interface LifecycleParts {
  /** The backend's errors. */
  readonly errors: PackageErrors;
  /** The queue name. */
  readonly name: string;
  /** Milliseconds before reopening after a failure (the first wait of the backoff). */
  readonly reconnectMillis: number;
  /** Milliseconds `close()` waits for `drained()` before it abandons what is left (see `abandon`). */
  readonly closeTimeoutMillis: number;
  /** The queue's connection. */
  readonly host: QueueHost;
  /** Emits one status change (the queue's `status` event and `mq:status`). */
  emitStatus(status: Status): void;
  /** Emits one error (the queue's `error` event and `mq:error`). */
  emitError(error: MqError): void;
  /** The driver of the `connect()` just made. */
  newDriver(): QueueDriver;
  /** The queue starts (`connect()`), or stops (`close()` began): it joins or leaves its connection. */
  joined(joined: boolean): void;
  /** The connection dropped: no answer can come for a pending send. */
  linkGone(): void;
  /** `close()` began: no new work is taken (the failure policy stops). */
  stopping(): void;
  /** Resolves once nothing is left running: handlers, sends, the failure policy's copies. */
  drained(): Promise<void>;
  /** `close()` gave up waiting: rejects what is still pending and says what was left, e.g. `1 handler still running`. */
  abandon(): string;
}

/**
 * The queue state machine: follows its connection (down to `disconnected` when it drops, back to `connected` when
 * it returns), opens through the driver, retries failed opens with a backoff from `reconnectMillis`, reports
 * what it cannot fix once, and closes in order: stop receiving, wait for the work under way, release.
 */
export class QueueLifecycle {
  readonly #parts: LifecycleParts;
  readonly #status: StatusCell;
  #driver: QueueDriver | undefined;
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

  /** A closed queue's state machine. */
  constructor(parts: LifecycleParts) {
    this.#parts = parts;
    this.#status = new StatusCell((status) => parts.emitStatus(status));
  }

  /** The current status. */
  get status(): Status {
    return this.#status.value;
  }

  /** The last error reported since the queue was last `connected`. */
  get lastError(): MqError | undefined {
    return this.#lastError;
  }

  /** The driver of the current `connect()`..`closed` cycle, if any. */
  get driver(): QueueDriver | undefined {
    return this.#driver;
  }

  /** Starts opening in the background (the caller checked the queue may); does nothing unless `closed`. */
  start(): void {
    if (this.#status.value !== 'closed') return;
    this.#driver = this.#parts.newDriver();
    this.#parts.joined(true);
    this.#parts.host.on('status', this.#onHostStatus);
    this.#status.set('connecting');
    if (this.#parts.host.status === 'connected') this.#attempt();
  }

  /** Closes (see the class); idempotent; resolves once `closed`. */
  close(): Promise<void> {
    if (this.#status.value === 'closed') return Promise.resolve();
    this.#closing ??= this.#close().finally(() => {
      this.#closing = undefined;
    });
    return this.#closing;
  }

  /** Emits an `error`, unless the queue is closed (nothing is emitted after `closed`). */
  reportError(error: MqError): void {
    if (this.#status.value === 'closed') return;
    this.#lastError = error;
    this.#parts.emitError(error);
  }

  /**
   * The driver's resources died while the connection stays up. A connection loss wins: a dying connection often
   * closes its channels just before it reports its own loss, so this waits one turn of the event loop and does
   * nothing if the connection dropped meanwhile (the queue then goes `disconnected` through `linkDown()`, once).
   */
  resourceLost(error: unknown): void {
    if (!this.#open()) return;
    const epoch = this.#linkEpoch;
    setImmediate(() => {
      if (epoch !== this.#linkEpoch || !this.#open()) return;
      this.reportError(
        this.#parts.errors.wrap(error, 'BROKER', `queue '${this.#parts.name}' lost its broker resources`),
      );
      // An `error` listener may have closed the queue meanwhile.
      if (!this.#open()) return;
      this.#status.set('disconnected');
      this.#scheduleRetry();
    });
  }

  /** `connected` or `connecting`: the states in which resources can be lost. */
  #open(): boolean {
    return this.#status.value === 'connected' || this.#status.value === 'connecting';
  }

  readonly #onHostStatus = (hostStatus: Status): void => {
    if (hostStatus === 'connected') {
      if (this.#status.value === 'disconnected') this.#status.set('connecting');
      if (this.#status.value === 'connecting') this.#attempt();
      return;
    }
    // A closing connection closes its queues itself, gracefully, while the link still works (handlers can ack).
    if (hostStatus === 'closing') return;
    // An attempt starting (from closed, or from disconnected, which was handled when it came) loses no link.
    if (hostStatus === 'connecting') return;
    this.#linkEpoch += 1;
    // The link is gone, and with it every answer a pending send waits for (also while this queue closes).
    this.#parts.linkGone();
    if (this.#open() || this.#status.value === 'disconnected') {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = undefined;
      if (this.#status.value !== 'disconnected') {
        this.#status.set('disconnected');
        this.#driver?.linkDown?.();
      }
    }
  };

  #attempt(): void {
    const driver = this.#driver;
    if (this.#opening || !driver) return;
    const epoch = this.#linkEpoch;
    const opening: Promise<void> = driver
      .open()
      .then(
        () => {
          if (epoch !== this.#linkEpoch) {
            // Opened on a link that has dropped since: forget those resources (close() releases them itself).
            if (this.#status.value !== 'closing') driver.linkDown?.();
            return;
          }
          if (this.#status.value === 'connecting') {
            this.#openBackoff?.reset();
            this.#reportedAttention = undefined;
            this.#lastError = undefined;
            this.#status.set('connected');
          }
        },
        (error: unknown) => this.#openFailed(error, epoch),
      )
      .finally(() => {
        this.#opening = undefined;
        // The connection came back while this attempt was running on the old link: try again on the new one.
        if (this.#status.value === 'connecting' && this.#parts.host.status === 'connected') this.#attempt();
      });
    this.#opening = opening;
  }

  #openFailed(error: unknown, epoch: number): void {
    if (this.#status.value !== 'connecting' || epoch !== this.#linkEpoch) return;
    const failure = this.#parts.errors.wrap(error, 'BROKER', `opening queue '${this.#parts.name}' failed`);
    // A failure that repeats unchanged on each retry is reported once, until it changes or the queue opens.
    const attention = reportedOnce(failure) ? `${failure.code} ${failure.message}` : undefined;
    if (attention === undefined || attention !== this.#reportedAttention) this.reportError(failure);
    this.#reportedAttention = attention;
    // An `error` listener may have closed the queue meanwhile.
    if (this.#status.value !== 'connecting') return;
    this.#status.set('disconnected');
    const { reconnectMillis } = this.#parts;
    this.#openBackoff ??= new Backoff({
      reconnectMillis,
      reconnectMaxMillis: Math.max(DEFAULT_RECONNECT_MAX_MILLIS, reconnectMillis),
    });
    this.#scheduleRetry(this.#openBackoff.next());
  }

  #scheduleRetry(delay = this.#parts.reconnectMillis): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    // A `disconnected` listener may have closed the queue already: no timer may outlive the close.
    if (this.#status.value !== 'disconnected') return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#status.value !== 'disconnected' || this.#parts.host.status !== 'connected') return;
      this.#status.set('connecting');
      this.#attempt();
    }, delay);
  }

  async #close(): Promise<void> {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    // Opened again, the queue reports every failure afresh and retries quickly at first.
    this.#reportedAttention = undefined;
    this.#openBackoff?.reset();
    this.#status.set('closing');
    this.#parts.stopping();
    await this.#opening;
    const driver = this.#driver;
    await this.#settle(() => driver?.stopReceiving?.());
    await this.#drainedWithin(this.#parts.closeTimeoutMillis);
    await this.#settle(() => driver?.release());
    this.#parts.host.off('status', this.#onHostStatus);
    this.#parts.joined(false);
    this.#driver = undefined;
    this.#status.set('closed');
  }

  /**
   * Waits for the work under way, at most `millis`: a handler that never returns must not hold `close()` for
   * ever. Past it, what is left is abandoned and reported (`TIMEOUT`); releasing the queue then leaves the
   * messages of those handlers unacked, for the broker to hand out again.
   */
  async #drainedWithin(millis: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.#parts.drained().then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), millis);
      }),
    ]);
    clearTimeout(timer);
    if (!timedOut) return;
    const left = this.#parts.abandon();
    this.reportError(
      this.#parts.errors.error(
        'TIMEOUT',
        `closing queue '${this.#parts.name}' gave up after ${millis} ms (closeTimeoutMillis) on ${left}; messages not acked are left to the broker to deliver again`,
      ),
    );
  }

  async #settle(step: () => Promise<void> | undefined): Promise<void> {
    try {
      await step();
    } catch (error) {
      this.reportError(
        this.#parts.errors.wrap(error, 'BROKER', `closing queue '${this.#parts.name}' failed`),
      );
    }
  }
}
