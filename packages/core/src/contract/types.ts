import type { Backend, Capabilities } from '../api/backends.js';
import type { Connection, ConnectionOptions } from '../api/connection.js';
import type { ContractContext } from './context.js';

/** Fault hooks a target may offer; cases that need a missing hook are skipped, visibly. */
export interface ContractFaults {
  /** Drops the link of `connection` as a network failure would (not via `close()`); it must then reconnect by itself. */
  dropConnection?(connection: Connection): Promise<void>;
  /**
   * Restarts the broker (every client loses its link); resolves once it accepts connections again. Durable
   * queues and the reliable messages confirmed in them must survive it (AMQP: persistent messages; set
   * `persistent` in `extraQueueOptions`).
   */
  restartBroker?(): Promise<void>;
  /** Reaching the broker through a TCP proxy that the silent-broker cases freeze. */
  silentBroker?: SilentBrokerFault;
  /**
   * A broker that is down until `bringUp()`: for backends without a TCP link to proxy (with `silentBroker`, the
   * contract makes one itself from a proxy that starts late).
   */
  brokerDown?(): Promise<BrokerDown>;
}

/** A broker that is not up yet, see {@link ContractFaults.brokerDown}. */
export interface BrokerDown {
  /** Options for a connection to it. */
  connectionOptions: ConnectionOptions & Record<string, unknown>;
  /** Brings it up; resolves once it accepts connections. */
  bringUp(): Promise<void>;
}

/** How the silent-broker cases reach the broker through a `TcpProxy` on 127.0.0.1 that they then freeze. */
export interface SilentBrokerFault {
  /** The broker's TCP address. */
  address: { host: string; port: number };
  /**
   * Options for a connection to the broker through `proxyPort` on 127.0.0.1, with heartbeats or keepalive off
   * (so that only the send deadline and the close bounds can end a wait) and a short connect timeout.
   */
  connectionOptions(proxyPort: number): ConnectionOptions & Record<string, unknown>;
  /**
   * Options for a connection through `proxyPort` that checks its link every `seconds` (AMQP heartbeats, MQTT
   * keepalive), so that a frozen link is noticed; absent when the backend has no such check.
   */
  heartbeatOptions?(proxyPort: number, seconds: number): ConnectionOptions & Record<string, unknown>;
}

/** What the contract runs against: a backend plus the settings of the broker under test. */
export interface ContractTarget {
  /** The backend under test. */
  backend: Backend;
  /** Options for a fresh connection to the broker under test; called once per connection. */
  connectionOptions(): ConnectionOptions & Record<string, unknown>;
  /**
   * Where the broker keeps unacked messages per client session rather than handing them to the next receiver
   * (MQTT `cleanSession: false`): options of a connection with a session of its own, a new one per call. The
   * session cases connect with the same options again to resume it. Absent: a backend whose capability
   * `redeliverUnacked` holds runs those cases on plain connections.
   */
  sessionConnectionOptions?(): ConnectionOptions & Record<string, unknown>;
  /** Options for a connection to a broker that does not answer (for example a closed port on 127.0.0.1). */
  unreachableConnectionOptions(): ConnectionOptions & Record<string, unknown>;
  /** Extra backend-specific options merged into every queue the contract creates (for example `persistent`). */
  extraQueueOptions?(queue: {
    isRecv: boolean;
    reliable: boolean;
    broadcast: boolean;
  }): Record<string, unknown>;
  /** Fault hooks, used by the cases that need them. */
  faults?: ContractFaults;
  /**
   * Multiplies every deadline, for slow brokers.
   * @default 1
   */
  timeScale?: number;
}

/**
 * A need of a contract case: a capability of the backend, a capability the backend declares `false` (`no:`,
 * for the cases that check it refuses the feature), or a fault hook of the target.
 */
export type Requirement =
  | keyof Capabilities
  | `no:${keyof Capabilities}`
  | 'fault:dropConnection'
  | 'fault:restartBroker'
  | 'fault:silentBroker'
  /** Met by `brokerDown` or `silentBroker`. */
  | 'fault:brokerDown'
  /** Met by `silentBroker.heartbeatOptions`. */
  | 'fault:heartbeat'
  /**
   * Unacked messages of a closed receiver come again: met by the capability `redeliverUnacked` (to any
   * receiver) or by the target's `sessionConnectionOptions` (to the same session's next connection).
   */
  | 'keepsUnacked';

/** The groups of the contract, in report order; a backend's additional cases may name their own. */
export type ContractGroup =
  | 'lifecycle'
  | 'validation'
  | 'payloads'
  | 'unicast'
  | 'broadcast'
  | 'reliable'
  | 'concurrency'
  | 'close'
  | 'workload'
  | 'faults'
  | 'metadata'
  | 'failures'
  | 'iteration'
  | 'order'
  | 'routing'
  | 'request-reply'
  | 'typed'
  // Backends may report their own cases under their own group names.
  | (string & {});

/** One behaviour every backend must show. */
export interface ContractCase {
  /** Stable id, `group.short-name`. */
  readonly id: string;
  /** The group it reports under. */
  readonly group: ContractGroup;
  /** The behaviour, stated in one sentence. */
  readonly title: string;
  /** What it needs; missing ones make the case skipped. */
  readonly requires: readonly Requirement[];
  /** Milliseconds the whole case may take (before `timeScale`). */
  readonly timeoutMillis: number;
  /** Runs the case; throws on failure. Resources made through `ctx` are cleaned up by the runner. */
  run(ctx: ContractContext): Promise<void>;
}
