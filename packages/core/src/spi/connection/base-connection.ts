import type { Connection, ConnectionEvents } from '../../api/connection.js';
import { ERROR_CHANNEL, type ErrorEvent, STATUS_CHANNEL, type StatusEvent } from '../../api/diagnostics.js';
import { MqError } from '../../api/errors.js';
import type { ConnectionHealth } from '../../api/health.js';
import type { Status } from '../../api/status.js';
import { Backoff } from '../backoff.js';
import { needsAttention, type PackageErrors } from '../errors.js';
import { errorSummary } from '../health.js';
import { emitOn, Observed } from '../observed.js';
import { StatusCell } from '../status-cell.js';
import { queuesOf } from './attachments.js';
import type { ConnectionSetup, LinkCore, LinkDriver } from './link-driver.js';

/** A link that stays up at least this long counts as stable: the next loss retries after `reconnectMillis` again. */
export const STABLE_LINK_MILLIS = 10_000;

/**
 * The connection state machine, for backends to extend: a backend's connection class passes its link driver
 * (see `ConnectionSetup`) to this constructor, and keeps only its own public members. Core owns every status
 * change, the reconnect timer and its backoff (see {@link Backoff}; it starts over once a link has stayed up
 * {@link STABLE_LINK_MILLIS}), the rotation over several addresses, the queues to close first, and `close()`.
 */
export abstract class BaseConnection extends Observed<ConnectionEvents> implements Connection {
  /** Milliseconds before the first reconnection attempt after a loss. */
  readonly reconnectMillis: number;
  /** The longest wait between reconnection attempts. */
  readonly reconnectMaxMillis: number;
  readonly #errors: PackageErrors;
  readonly #link: LinkDriver;
  readonly #backoff: Backoff;
  /** When the current link came up (`Date.now()`), to tell a stable link from a flapping one. */
  #connectedAt = 0;
  /** When the status last changed (`Date.now()`), for `health()`. */
  #statusSince = Date.now();
  readonly #status = new StatusCell((status) => {
    this.#statusSince = Date.now();
    emitOn<ConnectionEvents, 'status'>(this, 'status', status);
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
  /** The broker addresses, safe to show (passwords redacted), in the order given. */
  readonly #addresses: readonly string[];
  #addressIndex = 0;
  /** The failures that need attention reported since the last link opened (one per address and failure). */
  readonly #reportedAttention = new Set<string>();
  /** A failure that needs attention was printed because nobody listened for `error`: once per connection. */
  #warnedUnheard = false;
  #lastError: MqError | undefined;

  /** `setup`'s settings must already be validated (see `resolveSharedConnectionOptions`). */
  protected constructor(setup: ConnectionSetup) {
    super();
    this.reconnectMillis = setup.reconnectMillis;
    this.reconnectMaxMillis = setup.reconnectMaxMillis;
    this.#errors = setup.errors;
    this.#backoff = new Backoff({
      reconnectMillis: setup.reconnectMillis,
      reconnectMaxMillis: setup.reconnectMaxMillis,
    });
    this.#addresses = Object.freeze([...(setup.addresses ?? [])]);
    this.#link = setup.link(this.#core());
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

  /** The connection's health now (link status, last error) with that of each open queue. */
  health(): ConnectionHealth {
    const status = this.#status.value;
    return {
      status,
      linkUp: status === 'connected',
      statusAgeMillis: Math.max(0, Date.now() - this.#statusSince),
      address: this.address,
      lastError: errorSummary(this.#lastError),
      queues: queuesOf(this).map((queue) => queue.health()),
    };
  }

  /** Every broker address (passwords redacted), in the order they are tried. */
  get addresses(): readonly string[] {
    return this.#addresses;
  }

  /** Starts connecting in the background and keeps reconnecting after losses; does nothing unless `closed`. */
  connect(): void {
    if (this.#status.value !== 'closed') return;
    this.#attempt();
  }

  /** Closes every open queue, then the link; idempotent; resolves once `closed`. */
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

  /** What the link driver gets: the address to dial, how long the link lived, and the calls back into core. */
  #core(): LinkCore {
    const connection = this;
    return {
      get addressIndex() {
        return connection.#addressIndex;
      },
      get connectedMillis() {
        return connection.#status.value === 'connected' ? Date.now() - connection.#connectedAt : 0;
      },
      get status() {
        return connection.#status.value;
      },
      linkLost: (error, flapped) => this.#linkLost(error, flapped),
      reportError: (error) => this.#reportError(error),
    };
  }

  /** See `LinkCore.linkLost`. */
  #linkLost(error?: unknown, flapped = false): void {
    if (this.#status.value !== 'connected') return;
    if (!flapped && Date.now() - this.#connectedAt >= STABLE_LINK_MILLIS) this.#backoff.reset();
    const delay = this.#backoff.next();
    this.#nextAddress();
    if (error !== undefined) {
      this.#reportError(this.#retryNote(this.#errors.wrap(error, 'BROKER', 'connection lost'), delay));
      // An `error` listener may have closed the connection meanwhile.
      if (this.#status.value !== 'connected') return;
    }
    this.#status.set('disconnected');
    this.#scheduleRetry(delay);
  }

  /** Emits an `error`, unless the connection is closed (nothing is emitted after `closed`). */
  #reportError(error: MqError): void {
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
    emitOn<ConnectionEvents, 'error'>(this, 'error', error);
  }

  #attempt(): void {
    this.#status.set('connecting');
    const opening: Promise<void> = this.#link
      .open()
      .then(
        () => {
          if (this.#status.value !== 'connecting') return;
          this.#connectedAt = Date.now();
          this.#reportedAttention.clear();
          this.#lastError = undefined;
          this.#status.set('connected');
        },
        (error: unknown) => this.#attemptFailed(error),
      )
      .finally(() => {
        if (this.#opening === opening) this.#opening = undefined;
      });
    this.#opening = opening;
  }

  #attemptFailed(error: unknown): void {
    if (this.#status.value !== 'connecting') return;
    const delay = this.#backoff.next();
    const failure = this.#errors.wrap(error, 'BROKER', 'connect failed');
    this.#nextAddress();
    // A failure retrying cannot fix (wrong password, say) is reported once, until it changes or a link opens.
    const attention = needsAttention(failure) ? `${failure.code} ${failure.message}` : undefined;
    if (attention === undefined || !this.#reportedAttention.has(attention)) {
      this.#reportError(this.#retryNote(failure, delay));
      if (attention !== undefined) this.#warnIfUnheard(failure);
    }
    if (attention !== undefined) this.#reportedAttention.add(attention);
    // An `error` listener may have closed the connection meanwhile.
    if (this.#status.value !== 'connecting') return;
    this.#status.set('disconnected');
    this.#scheduleRetry(delay);
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
      this.#link.close().then(
        () => {
          if (this.#status.value === 'disconnected') this.#attempt();
        },
        (error: unknown) => {
          this.#reportError(this.#errors.wrap(error, 'BROKER', 'closing the dropped link failed'));
          if (this.#status.value === 'disconnected') this.#attempt();
        },
      );
    }, delay);
  }

  async #close(): Promise<void> {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#status.set('closing');
    this.#backoff.reset();
    // A connection opened again starts over at its first address, and reports every failure afresh.
    this.#addressIndex = 0;
    this.#reportedAttention.clear();
    await Promise.allSettled(queuesOf(this).map((queue) => queue.close()));
    await this.#opening;
    try {
      await this.#link.close();
    } catch (error) {
      this.#reportError(this.#errors.wrap(error, 'BROKER', 'close failed'));
    }
    this.#status.set('closed');
  }

  /**
   * A connection that can never work (wrong password or vhost, a refused certificate) must not sit `disconnected`
   * in silence: with no `error` listener, the first such failure is printed once per connection, as a warning.
   */
  #warnIfUnheard(failure: MqError): void {
    if (this.#warnedUnheard || this.listenerCount('error') > 0 || this.#status.value === 'closed') return;
    this.#warnedUnheard = true;
    process.emitWarning(
      `[${this.#errors.pkg}] a connection keeps failing in a way retrying cannot fix (${failure.code}: ${failure.message}), and nothing listens for its 'error' events, so this is the only notice. It keeps retrying; add connection.on('error', ...) to see every failure.`,
      'MqConnectionWarning',
    );
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
}
