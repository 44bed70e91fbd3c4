import {
  BaseQueue,
  type Connection,
  ownConnection,
  type QueueSetup,
  type UntypedQueueOptions,
} from '@mq/core/spi';
import { AmqpConnection } from './connection.js';
import { errors } from './errors.js';
import { type AmqpLink, amqpLinkOf } from './link.js';
import { type AmqpQueueOptions, type ResolvedAmqpQueueOptions, resolveAmqpQueueOptions } from './options.js';
import { AmqpQueueDriver, type StaleTempQueue } from './queue-driver.js';
import { AMQP_TRAITS } from './traits.js';

/**
 * A sender or receiver on an {@link AmqpConnection}, on its own channel. Unicast maps to a durable queue,
 * broadcast to a fanout exchange (see the README for the whole mapping). Reliable senders use a confirm channel
 * and resolve each send on the broker's `basic.ack`; receivers use `basic.qos(prefetch)` and manual acks.
 */
export class AmqpQueue<T = Buffer> extends BaseQueue<ResolvedAmqpQueueOptions, T> {
  /** Messages are published with delivery mode 2 (persistent). */
  readonly persistent: boolean;
  /** The unicast queue's RabbitMQ type. */
  readonly queueType: 'classic' | 'quorum';

  /** Validates the options and that `connection` is an {@link AmqpConnection}; the queue starts `closed`. */
  constructor(options: AmqpQueueOptions<T>, connection: AmqpConnection) {
    super(amqpQueueSetup(options, connection));
    this.persistent = this.options.persistent;
    this.queueType = this.options.queueType;
  }
}

/**
 * What an {@link AmqpQueue} passes to `BaseQueue`: its validated options, {@link AMQP_TRAITS} and its driver (for
 * the tests, which build queue classes on it). Throws `INVALID_OPTIONS` for bad options or a connection of
 * another backend.
 */
export function amqpQueueSetup(
  options: UntypedQueueOptions<AmqpQueueOptions>,
  connection: Connection,
): QueueSetup<ResolvedAmqpQueueOptions> {
  const resolved = resolveAmqpQueueOptions(options);
  const conn = ownConnection(errors, connection, AmqpConnection);
  const link = amqpLinkOf(conn) as AmqpLink;
  // What outlives one connect() cycle: a temporary queue left behind by a channel the broker closed.
  const stale: StaleTempQueue = { value: undefined };
  return {
    errors,
    options: resolved,
    connection: conn,
    traits: AMQP_TRAITS,
    driver: (core) => new AmqpQueueDriver(core, link, stale),
  };
}
