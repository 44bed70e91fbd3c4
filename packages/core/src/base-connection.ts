import { TypedEmitter } from './emitter.js';
import { type MqError, toMqError } from './errors.js';
import { canTransition, type Status } from './status.js';
import type { Connection, ConnectionEvents } from './types.js';

/** What a connection needs from the queues it carries: the power to close them. */
export interface AttachedQueue {
  /** Closes the queue. */
  close(): Promise<void>;
}

/**
 * The connection state machine, for backends to extend. It owns every status change, the reconnect timer, the
 * queues to close first, and `close()`. A backend implements only the link:
 * - `openLink()`: connect to the broker, within the connect timeout; reject on failure;
 * - `closeLink()`: close whatever link is open (or half-open); must not throw when there is none;
 * - call `linkLost(error)` when an open link drops by itself.
 */
export abstract class BaseConnection extends TypedEmitter<ConnectionEvents> implements Connection {
  /** Milliseconds between reconnection attempts. */
  readonly reconnectMillis: number;
  #status: Status = 'closed';
  #retryTimer: NodeJS.Timeout | undefined;
  #opening: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  readonly #queues = new Set<AttachedQueue>();

  /** `reconnectMillis` must already be validated. */
  protected constructor(reconnectMillis: number) {
    super();
    this.reconnectMillis = reconnectMillis;
  }

  /** The current status. */
  get status(): Status {
    return this.#status;
  }

  /** Starts connecting in the background and keeps reconnecting after losses; does nothing unless `closed`. */
  connect(): void {
    if (this.#status !== 'closed') return;
    this.#attempt();
  }

  /** Closes every attached queue, then the link; idempotent; resolves once `closed`. */
  close(): Promise<void> {
    if (this.#status === 'closed') return Promise.resolve();
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

  /** The backend calls this when an open link drops by itself; ignored unless `connected`. */
  protected linkLost(error?: unknown): void {
    if (this.#status !== 'connected') return;
    if (error !== undefined) this.reportError(toMqError(error, 'BROKER', '[mq] connection lost'));
    this.#setStatus('disconnected');
    this.#scheduleRetry();
  }

  /** Milliseconds before the next attempt; backends may override it to back off. Default: `reconnectMillis`. */
  protected retryDelayMillis(): number {
    return this.reconnectMillis;
  }

  /** Emits an `error`, unless the connection is closed (nothing is emitted after `closed`). */
  protected reportError(error: MqError): void {
    if (this.#status !== 'closed') this.emit('error', error);
  }

  #attempt(): void {
    this.#setStatus('connecting');
    const opening: Promise<void> = this.openLink()
      .then(
        () => {
          if (this.#status === 'connecting') this.#setStatus('connected');
        },
        (error: unknown) => {
          if (this.#status !== 'connecting') return;
          this.reportError(toMqError(error, 'BROKER', '[mq] connect failed'));
          this.#setStatus('disconnected');
          this.#scheduleRetry();
        },
      )
      .finally(() => {
        if (this.#opening === opening) this.#opening = undefined;
      });
    this.#opening = opening;
  }

  #scheduleRetry(): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#status !== 'disconnected') return;
      // A dropped link may still hold resources; release them before the next attempt.
      this.closeLink().then(
        () => {
          if (this.#status === 'disconnected') this.#attempt();
        },
        (error: unknown) => {
          this.reportError(toMqError(error, 'BROKER', '[mq] closing the dropped link failed'));
          if (this.#status === 'disconnected') this.#attempt();
        },
      );
    }, this.retryDelayMillis());
  }

  async #close(): Promise<void> {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#setStatus('closing');
    await Promise.allSettled([...this.#queues].map((queue) => queue.close()));
    await this.#opening;
    try {
      await this.closeLink();
    } catch (error) {
      this.reportError(toMqError(error, 'BROKER', '[mq] close failed'));
    }
    this.#setStatus('closed');
  }

  #setStatus(next: Status): void {
    if (next === this.#status || !canTransition(this.#status, next)) return;
    this.#status = next;
    this.emit('status', next);
  }
}
