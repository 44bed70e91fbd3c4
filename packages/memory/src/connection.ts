import {
  type ConnectionOptions,
  LegacyBaseConnection,
  type MqError,
  resolveSharedConnectionOptions,
} from '@mq/core/spi';
import { MemoryBroker, type Session } from './broker.js';
import { errors } from './errors.js';

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
}

/** A connection to an in-process {@link MemoryBroker}. */
export class MemoryConnection extends LegacyBaseConnection {
  /** The broker this connection talks to. */
  readonly broker: MemoryBroker;
  #session: Session | undefined;

  /** Validates the options; the connection starts `closed`. */
  constructor(options: MemoryConnectionOptions = {}) {
    const { shared } = resolveSharedConnectionOptions<MemoryConnectionOptions>(errors, options, {
      schemes: ['memory'],
      defaultUri: 'memory://default',
      extraKeys: {},
    });
    super(shared);
    this.broker = MemoryBroker.named(shared.url.hostname || 'default');
  }

  /**
   * The live session, for queues; undefined unless connected.
   * @internal
   */
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
        this.notifyLinkLost(reason);
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
