import { BaseConnection, type ConnectionEvents, TypedEmitter } from '@mq/core/spi';
import { errors } from './errors.js';
import { AmqpLink, amqpLinkOf, registerLink } from './link.js';
import {
  type AmqpConnectionOptions,
  type AmqpConnectionSettings,
  resolveConnectionOptions,
} from './options.js';

/** The events of an {@link AmqpConnection}: those of every connection, and RabbitMQ's flow control. */
export interface AmqpConnectionEvents extends ConnectionEvents {
  /**
   * RabbitMQ stopped reading this connection's publishes (`connection.blocked`, a memory or disk alarm): sends
   * wait (within their `sendTimeoutMillis`) until `unblocked`. `reason` is RabbitMQ's, e.g. `low on memory`.
   */
  blocked: (reason: string) => void;
  /** RabbitMQ reads this connection's publishes again (`connection.unblocked`): waiting sends go on. */
  unblocked: () => void;
}

/** The names of the events only an {@link AmqpConnection} has. */
type FlowEvent = 'blocked' | 'unblocked';

/** The emitter of `blocked` and `unblocked`; the rest of the events are core's. */
export class FlowEvents extends TypedEmitter<Pick<AmqpConnectionEvents, FlowEvent>> {
  override emit<E extends FlowEvent>(event: E, ...args: Parameters<AmqpConnectionEvents[E]>): void {
    super.emit(event, ...args);
  }
}

function isFlowEvent(event: unknown): event is FlowEvent {
  return event === 'blocked' || event === 'unblocked';
}

/**
 * A connection to an AMQP 0-9-1 broker (RabbitMQ) over amqplib. It reconnects by itself after every loss
 * (broker restart, `close_connection`, network failure, missed heartbeats) until `close()`; each queue on it
 * gets its own channel.
 */
export class AmqpConnection extends BaseConnection {
  /** The validated settings, safe to log: the URI's password and the TLS material are not in here. */
  readonly settings: Readonly<AmqpConnectionSettings>;
  readonly #flow: FlowEvents;

  /** Validates the options; the connection starts `closed`. Throws `INVALID_OPTIONS` naming the bad field. */
  constructor(options: AmqpConnectionOptions = {}) {
    const { settings, uris, tls } = resolveConnectionOptions(options);
    const frozen = Object.freeze(settings);
    const flow = new FlowEvents();
    let link: AmqpLink | undefined;
    super({
      errors,
      reconnectMillis: settings.reconnectMillis,
      reconnectMaxMillis: settings.reconnectMaxMillis,
      addresses: settings.uris,
      link: (core) => {
        link = new AmqpLink(core, frozen, uris, tls, flow);
        return link;
      },
    });
    this.settings = frozen;
    this.#flow = flow;
    registerLink(this, link as AmqpLink);
  }

  /** Calls `listener` on every `event` (also `blocked` and `unblocked`, see {@link AmqpConnectionEvents}). */
  override on<E extends keyof AmqpConnectionEvents>(event: E, listener: AmqpConnectionEvents[E]): this {
    if (isFlowEvent(event)) this.#flow.on(event, listener as never);
    else super.on(event as keyof ConnectionEvents, listener as ConnectionEvents[keyof ConnectionEvents]);
    return this;
  }

  /** Calls `listener` on the next `event` only. */
  override once<E extends keyof AmqpConnectionEvents>(event: E, listener: AmqpConnectionEvents[E]): this {
    if (isFlowEvent(event)) this.#flow.once(event, listener as never);
    else super.once(event as keyof ConnectionEvents, listener as ConnectionEvents[keyof ConnectionEvents]);
    return this;
  }

  /** Removes a listener added with `on` or `once`. */
  override off<E extends keyof AmqpConnectionEvents>(event: E, listener: AmqpConnectionEvents[E]): this {
    if (isFlowEvent(event)) this.#flow.off(event, listener as never);
    else super.off(event as keyof ConnectionEvents, listener as ConnectionEvents[keyof ConnectionEvents]);
    return this;
  }

  /** Same as `on`. */
  override addListener<E extends keyof AmqpConnectionEvents>(
    event: E,
    listener: AmqpConnectionEvents[E],
  ): this {
    return this.on(event, listener);
  }

  /** Same as `off`. */
  override removeListener<E extends keyof AmqpConnectionEvents>(
    event: E,
    listener: AmqpConnectionEvents[E],
  ): this {
    return this.off(event, listener);
  }

  /** How many listeners `event` has. */
  override listenerCount<E extends keyof AmqpConnectionEvents>(event: E): number {
    return isFlowEvent(event)
      ? this.#flow.listenerCount(event)
      : super.listenerCount(event as keyof ConnectionEvents);
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
