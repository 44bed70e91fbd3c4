import {
  BaseConnection,
  type ConnectionOptions,
  checkUri,
  type MqError,
  readInteger,
  readOptions,
} from '@mq/core';
import { MemoryBroker, type Session } from './broker.js';

const PKG = 'mq/memory';

/** Options of a {@link MemoryConnection}. */
export interface MemoryConnectionOptions extends ConnectionOptions {
  /**
   * Which in-process broker to use: `memory://<name>`.
   * @default 'memory://default'
   */
  uri?: string;
  /**
   * Accepted for interface parity; connecting in memory never takes long.
   * @default 3000
   */
  connectTimeoutMillis?: number;
  /**
   * Milliseconds between reconnection attempts.
   * @default 1000
   */
  reconnectMillis?: number;
}

/** A connection to an in-process {@link MemoryBroker}. */
export class MemoryConnection extends BaseConnection {
  /** The broker this connection talks to. */
  readonly broker: MemoryBroker;
  #session: Session | undefined;

  /** Validates the options; the connection starts `closed`. */
  constructor(options: MemoryConnectionOptions = {}) {
    const opts = readOptions(
      PKG,
      options,
      ['uri', 'connectTimeoutMillis', 'reconnectMillis'],
      'connection options',
    );
    const url = checkUri(PKG, 'uri', opts.uri ?? 'memory://default', ['memory']);
    readInteger(PKG, opts, 'connectTimeoutMillis', { min: 1, max: 2_147_483_647 }, 3000);
    super(readInteger(PKG, opts, 'reconnectMillis', { min: 1, max: 2_147_483_647 }, 1000) as number);
    this.broker = MemoryBroker.named(url.hostname || 'default');
  }

  /** The live session, for queues; undefined unless connected. */
  get session(): Session | undefined {
    return this.#session;
  }

  /** Cuts this connection's link as a network failure would; it reconnects by itself. For tests. */
  simulateDrop(): void {
    if (this.#session) this.broker.drop(this.#session);
  }

  protected override async openLink(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    const session: Session = {
      onDrop: (reason: MqError) => {
        if (this.#session !== session) return;
        this.#session = undefined;
        this.linkLost(reason);
      },
    };
    this.broker.openSession(session);
    this.#session = session;
  }

  protected override async closeLink(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    if (session) this.broker.closeSession(session);
  }
}
