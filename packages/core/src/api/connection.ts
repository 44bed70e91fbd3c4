import type { MqError } from './errors.js';
import type { ConnectionHealth } from './health.js';
import type { Observable } from './observable.js';
import type { Status } from './status.js';

/** Events of a {@link Connection}. */
export interface ConnectionEvents {
  /** The status changed; each change is emitted once, in order. */
  status: (status: Status) => void;
  /** Something went wrong that no promise could report (a lost link, a failed reconnect attempt, ...). */
  error: (error: MqError) => void;
}

/**
 * A link to one broker. It starts `closed`; `connect()` opens it in the background and keeps reconnecting after
 * every loss until `close()`.
 */
export interface Connection extends Observable<ConnectionEvents>, AsyncDisposable {
  /** The current status. */
  readonly status: Status;
  /**
   * The broker address (password redacted) the connection is on, or is trying or will try next; with several
   * URIs it moves on after each failure. Optional for backends written before it existed.
   */
  readonly address?: string | undefined;
  /** Starts connecting in the background; does nothing unless the status is `closed`. Never throws for a broker failure. */
  connect(): void;
  /** Closes every queue on this connection, then the link; idempotent; resolves once `closed`. */
  close(): Promise<void>;
  /**
   * The connection's health now: link status and last error, and each open queue's `health()` (receivers:
   * consumer attached at the broker, age of the last delivery; sends in flight). Cheap; reads no broker.
   */
  health(): ConnectionHealth;
}

/** Options every backend's connections take. */
export interface ConnectionOptions {
  /**
   * Where the broker is, as a URI whose scheme selects the backend; or a non-empty array of them, one per node of
   * a cluster (each validated; credentials may differ). The connection tries them in turn, always moving on to
   * the next one after a failed attempt or a lost link, so that losing one node costs about one reconnect.
   */
  uri?: string | readonly string[];
  /**
   * Milliseconds one connection attempt may take before it counts as failed.
   * @default 3000
   */
  connectTimeoutMillis?: number;
  /**
   * Milliseconds before the first reconnection attempt after a loss; each failed attempt doubles the wait (with
   * jitter), up to `reconnectMaxMillis`. The wait starts over once a link has stayed up for 10 s.
   * @default 1000
   */
  reconnectMillis?: number;
  /**
   * The longest wait between reconnection attempts; at least `reconnectMillis`. Set it to `reconnectMillis` for
   * a fixed interval (as general-mq has it).
   * @default 30000, or `reconnectMillis` if that is larger
   */
  reconnectMaxMillis?: number;
}
