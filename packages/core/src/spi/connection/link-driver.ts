import type { MqError } from '../../api/errors.js';
import type { Status } from '../../api/status.js';
import type { PackageErrors } from '../errors.js';

/** What core offers a connection's link driver. */
export interface LinkCore {
  /** Which of the connection's addresses `open()` dials (0 when it has one); core moves on after each failure. */
  readonly addressIndex: number;
  /** Milliseconds since the current link came up; 0 unless `connected`. */
  readonly connectedMillis: number;
  /** The connection's current status. */
  readonly status: Status;
  /**
   * The open link dropped by itself; ignored unless `connected`. Core reports `error` (when given), goes
   * `disconnected` and schedules the retry. `flapped: true` (a session another client took over, say) keeps the
   * backoff growing however long the link lived.
   */
  linkLost(error?: unknown, flapped?: boolean): void;
  /** Emits an `error` on the connection, unless it is closed. */
  reportError(error: MqError): void;
}

/** What a backend implements for a connection's link to the broker. */
export interface LinkDriver {
  /**
   * Opens the link to address `core.addressIndex` within the connect timeout (see `withDeadline`); rejects on
   * failure. Never called while a link is open.
   */
  open(): Promise<void>;
  /** Closes whatever is open or half-open; resolves also when there is nothing to close. Bounded. */
  close(): Promise<void>;
}

/** What a connection class passes to `BaseConnection`'s constructor. */
export interface ConnectionSetup {
  /** The backend's errors (connection failures are reported as its own). */
  readonly errors: PackageErrors;
  /** Milliseconds before the first reconnection attempt after a loss (validated). */
  readonly reconnectMillis: number;
  /** The longest wait between attempts; at least `reconnectMillis` (validated). */
  readonly reconnectMaxMillis: number;
  /** The broker URIs with their passwords redacted (see `redactUri`), one per address `open()` can dial. */
  readonly addresses?: readonly string[];
  /** Makes the connection's link driver, once, given what core offers it. */
  readonly link: (core: LinkCore) => LinkDriver;
}
