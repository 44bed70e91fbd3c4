import type { MqError } from '../../api/errors.js';
import type { BackoffSettings } from '../backoff.js';
import { packageErrors } from '../errors.js';
import { BaseConnection } from './base-connection.js';
import type { LinkCore } from './link-driver.js';

/** The errors the connections of the transitional SPI report. */
const ERRORS = packageErrors('mq');

/**
 * Transitional: the hooks-on-the-class SPI (protected `openLink()`, `closeLink()`, ...) on top of the
 * driver-based `BaseConnection`, while the backends move to link drivers one by one. Removed once none extends
 * it.
 * @deprecated Implement a `LinkDriver` and extend `BaseConnection`.
 */
export abstract class LegacyBaseConnection extends BaseConnection {
  readonly #core: LinkCore;

  /** The settings must already be validated (see `resolveSharedConnectionOptions`). */
  protected constructor(reconnect: BackoffSettings & { addresses?: readonly string[] }) {
    const self: { connection?: LegacyBaseConnection } = {};
    let captured: LinkCore | undefined;
    super({
      errors: ERRORS,
      reconnectMillis: reconnect.reconnectMillis,
      reconnectMaxMillis: reconnect.reconnectMaxMillis,
      ...(reconnect.addresses ? { addresses: reconnect.addresses } : {}),
      link: (core) => {
        captured = core;
        return {
          open: () => (self.connection as LegacyBaseConnection).openLink(),
          close: () => (self.connection as LegacyBaseConnection).closeLink(),
        };
      },
    });
    self.connection = this;
    this.#core = captured as LinkCore;
  }

  /** See `LinkDriver.open`. */
  protected abstract openLink(): Promise<void>;
  /** See `LinkDriver.close`. */
  protected abstract closeLink(): Promise<void>;
  /** See `LinkCore.linkLost`. */
  protected notifyLinkLost(error?: unknown, flapped = false): void {
    this.#core.linkLost(error, flapped);
  }
  /** See `LinkCore.addressIndex`. */
  protected get addressIndex(): number {
    return this.#core.addressIndex;
  }
  /** See `LinkCore.connectedMillis`. */
  protected get connectedMillis(): number {
    return this.#core.connectedMillis;
  }
  /** See `LinkCore.reportError`. */
  protected reportError(error: MqError): void {
    this.#core.reportError(error);
  }
}
