import type { Connection, ConnectionEvents } from '../../api/connection.js';
import { ERROR_CHANNEL, type ErrorEvent, STATUS_CHANNEL, type StatusEvent } from '../../api/diagnostics.js';
import { MqError } from '../../api/errors.js';
import type { Status } from '../../api/status.js';
import { Backoff, type BackoffSettings } from '../backoff.js';
import { TypedEmitter } from '../emitter.js';
import { needsAttention, toMqError } from '../errors.js';
import { StatusCell } from '../status-cell.js';

/** What a connection needs from the queues it carries: the power to close them. */
export interface AttachedQueue {
  /** Closes the queue. */
  close(): Promise<void>;
}

/** A link that stays up at least this long counts as stable: the next loss retries after `reconnectMillis` again. */
export const STABLE_LINK_MILLIS = 10_000;

/**
 * The connection state machine, for backends to extend. It owns every status change, the reconnect timer and
 * its backoff (see {@link Backoff}; it starts over once a link has stayed up {@link STABLE_LINK_MILLIS}), the
 * queues to close first, and `close()`. A backend implements only the link:
 * - `openLink()`: connect to the broker, within the connect timeout; reject on failure;
 * - `closeLink()`: close whatever link is open (or half-open); must not throw when there is none;
 * - call `notifyLinkLost(error)` when an open link drops by itself.
 */
export abstract class BaseConnection extends TypedEmitter<ConnectionEvents> implements Connection {
  /** Milliseconds before the first reconnection attempt after a loss. */
  readonly reconnectMillis: number;
  /** The longest wait between reconnection attempts. */
  readonly reconnectMaxMillis: number;
  readonly #backoff: Backoff;
  /** When the current link came up (`Date.now()`), to tell a stable link from a flapping one. */
  #connectedAt = 0;
  readonly #status = new StatusCell((status) => {
    this.emit('status', status);
    if (STATUS_CHANNEL.hasSubscribers) {
      STATUS_CHANNEL.publish({
        kind: 'connection',
        source: this,
        name: undefined,
        status,
      } satisfies StatusEvent);
    }
  });
  #retryTimer: NodeJS.Timeout | undefined;
  #opening: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  readonly #queues = new Set<AttachedQueue>();
  /** The broker addresses, safe to show (passwords redacted), in the order given. */
  readonly #addresses: readonly string[];
  #addressIndex = 0;
  /** The failures that need attention reported since the last link opened (one per address and failure). */
  readonly #reportedAttention = new Set<string>();
  #lastError: MqError | undefined;

  /**
   * The settings must already be validated (see `resolveSharedConnectionOptions`). `addresses` are the broker
   * URIs with their passwords redacted (see `redactUri`), one per address the backend can connect to.
   */
  protected constructor(reconnect: BackoffSettings & { addresses?: readonly string[] }) {
    super();
    this.reconnectMillis = reconnect.reconnectMillis;
    this.reconnectMaxMillis = reconnect.reconnectMaxMillis;
    this.#backoff = new Backoff({
      reconnectMillis: reconnect.reconnectMillis,
      reconnectMaxMillis: reconnect.reconnectMaxMillis,
    });
    this.#addresses = Object.freeze([...(reconnect.addresses ?? [])]);
  }

  /** The current status. */
  get status(): Status {
    return this.#status.value;
  }

  /**
   * The broker address (password redacted) the connection is on, or is trying or will try next; `undefined` for
   * a backend that gave none.
   */
  get address(): string | undefined {
    return this.#addresses[this.#addressIndex];
  }

  /** The last error reported since the connection was last `connected` (for a wait that times out to show why). */
  get lastError(): MqError | undefined {
    return this.#lastError;
  }

  /** Every broker address (passwords redacted), in the order they are tried. */
  get addresses(): readonly string[] {
    return this.#addresses;
  }

  /**
   * For the backend's `openLink()`: which of its addresses to connect to (0 when it has one). Core moves on to
   * the next one after each failed attempt and each lost link.
   */
  protected get addressIndex(): number {
    return this.#addressIndex;
  }

  /** Starts connecting in the background and keeps reconnecting after losses; does nothing unless `closed`. */
  connect(): void {
    if (this.#status.value !== 'closed') return;
    this.#attempt();
  }

  /** Closes every attached queue, then the link; idempotent; resolves once `closed`. */
  close(): Promise<void> {
    if (this.#status.value === 'closed') return Promise.resolve();
    this.#closing ??= this.#close().finally(() => {
      this.#closing = undefined;
    });
    return this.#closing;
  }

  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** SPI: a queue calls this when it opens, so that closing the connection closes it first. */
  attachQueue(queue: AttachedQueue): void {
    this.#queues.add(queue);
  }

  /** SPI: a queue calls this once it is closed. */
  detachQueue(queue: AttachedQueue): void {
    this.#queues.delete(queue);
  }

  /** Opens the link to the broker; rejects when the attempt fails or times out. */
  protected abstract openLink(): Promise<void>;

  /** Closes the link, if any; resolves also when there is nothing to close. */
  protected abstract closeLink(): Promise<void>;

  /**
   * The backend calls this when an open link drops by itself; ignored unless `connected`. `flapped` says the
   * loss was no accident (another client took the session over, say): the backoff then keeps growing however
   * long the link lived.
   */
  protected notifyLinkLost(error?: unknown, flapped = false): void {
    if (this.#status.value !== 'connected') return;
    if (!flapped && Date.now() - this.#connectedAt >= STABLE_LINK_MILLIS) this.#backoff.reset();
    const delay = this.#backoff.next();
    this.#nextAddress();
    if (error !== undefined) {
      this.reportError(this.#retryNote(toMqError(error, 'BROKER', '[mq] connection lost'), delay));
      // An `error` listener may have closed the connection meanwhile.
      if (this.#status.value !== 'connected') return;
    }
    this.#setStatus('disconnected');
    this.#scheduleRetry(delay);
  }

  /** Milliseconds since the current link came up; 0 unless `connected`. */
  protected get connectedMillis(): number {
    return this.#status.value === 'connected' ? Date.now() - this.#connectedAt : 0;
  }

  /** Emits an `error`, unless the connection is closed (nothing is emitted after `closed`). */
  protected reportError(error: MqError): void {
    if (this.#status.value === 'closed') return;
    this.#lastError = error;
    if (ERROR_CHANNEL.hasSubscribers) {
      ERROR_CHANNEL.publish({
        kind: 'connection',
        source: this,
        name: undefined,
        error,
      } satisfies ErrorEvent);
    }
    this.emit('error', error);
  }

  #attempt(): void {
    this.#setStatus('connecting');
    const opening: Promise<void> = this.openLink()
      .then(
        () => {
          if (this.#status.value !== 'connecting') return;
          this.#connectedAt = Date.now();
          this.#reportedAttention.clear();
          this.#lastError = undefined;
          this.#setStatus('connected');
        },
        (error: unknown) => {
          if (this.#status.value !== 'connecting') return;
          const delay = this.#backoff.next();
          const failure = toMqError(error, 'BROKER', '[mq] connect failed');
          this.#nextAddress();
          // A failure retrying cannot fix (wrong password, say) is reported once, until it changes or a link opens.
          const attention = needsAttention(failure) ? `${failure.code} ${failure.message}` : undefined;
          if (attention === undefined || !this.#reportedAttention.has(attention)) {
            this.reportError(this.#retryNote(failure, delay));
          }
          if (attention !== undefined) this.#reportedAttention.add(attention);
          // An `error` listener may have closed the connection meanwhile.
          if (this.#status.value !== 'connecting') return;
          this.#setStatus('disconnected');
          this.#scheduleRetry(delay);
        },
      )
      .finally(() => {
        if (this.#opening === opening) this.#opening = undefined;
      });
    this.#opening = opening;
  }

  #scheduleRetry(delay: number): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    // A `disconnected` listener may have closed the connection already: no timer may outlive the close.
    if (this.#status.value !== 'disconnected') return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#status.value !== 'disconnected') return;
      // A dropped link may still hold resources; release them before the next attempt.
      this.closeLink().then(
        () => {
          if (this.#status.value === 'disconnected') this.#attempt();
        },
        (error: unknown) => {
          this.reportError(toMqError(error, 'BROKER', '[mq] closing the dropped link failed'));
          if (this.#status.value === 'disconnected') this.#attempt();
        },
      );
    }, delay);
  }

  async #close(): Promise<void> {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#setStatus('closing');
    this.#backoff.reset();
    // A connection opened again starts over at its first address, and reports every failure afresh.
    this.#addressIndex = 0;
    this.#reportedAttention.clear();
    await Promise.allSettled([...this.#queues].map((queue) => queue.close()));
    await this.#opening;
    try {
      await this.closeLink();
    } catch (error) {
      this.reportError(toMqError(error, 'BROKER', '[mq] close failed'));
    }
    this.#setStatus('closed');
  }

  /** The same error, its message saying when the next attempt comes, and where when there are several addresses. */
  #retryNote(error: MqError, delay: number): MqError {
    const where = this.#addresses.length > 1 ? ` to ${this.address}` : '';
    return new MqError(error.code, `${error.message}; reconnecting${where} in ${delay} ms`, {
      cause: error.cause,
    });
  }

  /** After a failure on one address, the next attempt goes to the next one (round robin). */
  #nextAddress(): void {
    if (this.#addresses.length > 1) this.#addressIndex = (this.#addressIndex + 1) % this.#addresses.length;
  }

  #setStatus(next: Status): void {
    this.#status.set(next);
  }
}
