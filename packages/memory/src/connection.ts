import { BaseConnection, type ConnectionOptions, resolveSharedConnectionOptions } from '@mq/core/spi';
import { MemoryBroker } from './broker.js';
import { errors } from './errors.js';
import { MemoryLink, memoryLinkOf, registerLink } from './link.js';

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

// #region spi
/** A connection to an in-process {@link MemoryBroker}. */
export class MemoryConnection extends BaseConnection {
  /** The broker this connection talks to. */
  readonly broker: MemoryBroker;

  /** Validates the options; the connection starts `closed`. */
  constructor(options: MemoryConnectionOptions = {}) {
    const { shared } = resolveSharedConnectionOptions<MemoryConnectionOptions>(errors, options, {
      schemes: ['memory'],
      defaultUri: 'memory://default',
      extraKeys: {},
    });
    const broker = MemoryBroker.named(shared.url.hostname || 'default');
    let link: MemoryLink | undefined;
    super({
      errors,
      reconnectMillis: shared.reconnectMillis,
      reconnectMaxMillis: shared.reconnectMaxMillis,
      link: (core) => {
        link = new MemoryLink(core, broker);
        return link;
      },
    });
    this.broker = broker;
    registerLink(this, link as MemoryLink);
  }

  /** Cuts this connection's link as a network failure would; it reconnects by itself. For tests. */
  simulateDrop(): void {
    memoryLinkOf(this)?.drop();
  }
}
// #endregion spi
