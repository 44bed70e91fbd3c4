import { BaseConnection } from '@mq/core/spi';
import { errors } from './errors.js';
import { AmqpLink, amqpLinkOf, registerLink } from './link.js';
import {
  type AmqpConnectionOptions,
  type AmqpConnectionSettings,
  resolveConnectionOptions,
} from './options.js';

/**
 * A connection to an AMQP 0-9-1 broker (RabbitMQ) over amqplib. It reconnects by itself after every loss
 * (broker restart, `close_connection`, network failure, missed heartbeats) until `close()`; each queue on it
 * gets its own channel.
 */
export class AmqpConnection extends BaseConnection {
  /** The validated settings, safe to log: the URI's password and the TLS material are not in here. */
  readonly settings: Readonly<AmqpConnectionSettings>;

  /** Validates the options; the connection starts `closed`. Throws `INVALID_OPTIONS` naming the bad field. */
  constructor(options: AmqpConnectionOptions = {}) {
    const { settings, uris, tls } = resolveConnectionOptions(options);
    const frozen = Object.freeze(settings);
    let link: AmqpLink | undefined;
    super({
      errors,
      reconnectMillis: settings.reconnectMillis,
      reconnectMaxMillis: settings.reconnectMaxMillis,
      addresses: settings.uris,
      link: (core) => {
        link = new AmqpLink(core, frozen, uris, tls);
        return link;
      },
    });
    this.settings = frozen;
    registerLink(this, link as AmqpLink);
  }

  /** The `connection_name` client property, if one was given. */
  get connectionName(): string | undefined {
    return this.settings.connectionName;
  }

  /**
   * Drops the network link as a failure would: the socket is destroyed, with no AMQP close handshake (the broker
   * sees the TCP connection die and requeues what it had delivered). The connection reconnects by itself. For
   * tests.
   */
  simulateDrop(): void {
    amqpLinkOf(this)?.drop();
  }
}
