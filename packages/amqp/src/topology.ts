import type { MqError } from '@mq/core/spi';
import type * as amqp from 'amqplib';
import { errors } from './errors.js';
import { optionOfArgument } from './queue-arguments.js';

/** What a queue declares on the broker; the same as general-mq, so apps on both can share a broker. */
export interface Topology {
  /** True for a fan-out exchange, false for a durable queue. */
  broadcast: boolean;
  /** True for a receiver. */
  isRecv: boolean;
  /** The queue (unicast) or exchange (broadcast) name. */
  name: string;
  /** The unicast queue's type. */
  queueType: 'classic' | 'quorum';
  /** A quorum queue's `x-delivery-limit`, if any. */
  deliveryLimit: number | undefined;
  /** False to only check that the queue (exchange) exists: someone else declares it. */
  declare: boolean;
  /** The unicast queue's other `x-` arguments (`maxLength`, ..., `queueArguments`). */
  arguments: Readonly<Record<string, unknown>>;
}

/** The topology of a dead-letter queue: a classic durable queue, as an mq unicast sender declares it. */
export function deadLetterTopology(name: string): Topology {
  return {
    broadcast: false,
    isRecv: false,
    name,
    queueType: 'classic',
    deliveryLimit: undefined,
    declare: true,
    arguments: {},
  };
}

/**
 * The `x-` arguments of a unicast queue: none for a classic one without argument options (general-mq's topology),
 * else its type, limit and the arguments given.
 */
export function queueArguments(topology: Topology): Record<string, unknown> | undefined {
  const args: Record<string, unknown> = { ...topology.arguments };
  if (topology.queueType !== 'classic') args['x-queue-type'] = topology.queueType;
  if (topology.deliveryLimit !== undefined) args['x-delivery-limit'] = topology.deliveryLimit;
  return Object.keys(args).length === 0 ? undefined : args;
}

/** Where a sender publishes: the exchange and the routing key. */
export function route(topology: Topology): { exchange: string; routingKey: string } {
  return topology.broadcast
    ? { exchange: topology.name, routingKey: '' }
    : { exchange: '', routingKey: topology.name };
}

/**
 * Declares the topology on `channel` and returns the queue a receiver consumes from:
 * - unicast: a durable queue `name` (reached through the default exchange), of its `queueType`;
 * - broadcast: a non-durable fanout exchange `name`; a receiver also gets an exclusive, server-named queue
 *   bound to it.
 * With `declare: false`, the queue or exchange is only checked (a passive declare, 404 when missing).
 */
export async function declare(channel: amqp.Channel, topology: Topology): Promise<string | undefined> {
  const { name, broadcast, isRecv } = topology;
  if (!broadcast) {
    if (!topology.declare) {
      await channel.checkQueue(name);
      return name;
    }
    const args = queueArguments(topology);
    await channel.assertQueue(name, {
      durable: true,
      exclusive: false,
      autoDelete: false,
      ...(args ? { arguments: args } : {}),
    });
    return name;
  }
  if (topology.declare) {
    await channel.assertExchange(name, 'fanout', { durable: false, autoDelete: false, internal: false });
  } else {
    await channel.checkExchange(name);
  }
  if (!isRecv) return undefined;
  // Non-durable: it cannot outlive its connection anyway, being exclusive.
  const { queue } = await channel.assertQueue('', { exclusive: true, durable: false, autoDelete: false });
  await channel.bindQueue(queue, name, '');
  return queue;
}

/**
 * The error for a failed open of queue `name`: a queue or exchange that exists with other arguments
 * (`PRECONDITION_FAILED - inequivalent arg ...`) or refuses one (`invalid arg`) is `INVALID_OPTIONS` naming the
 * argument and what to do, since retrying cannot fix it; one missing for `declare: false` (`NOT_FOUND - no
 * queue ...`) is `NOT_FOUND` naming it; anything else is `BROKER`.
 */
export function declareError(name: string, error: unknown, role?: 'deadLetter'): MqError {
  const message = error instanceof Error ? error.message : String(error);
  const missing = /NOT_FOUND - no (queue|exchange) '([^']*)'/.exec(message);
  if (missing) {
    // Stable wording (no channel number, no vhost detail): core reports it once per change, not per retry.
    return errors.error(
      'NOT_FOUND',
      `${missing[1]} '${missing[2]}' does not exist on the broker (declare: false): waiting for it, retrying quietly with the queue's backoff; declare it on the broker, or let mq declare it (drop declare: false)`,
      { cause: error },
    );
  }
  const refused = /PRECONDITION_FAILED - invalid arg '([^']+)'/.exec(message)?.[1];
  if (refused !== undefined) {
    return errors.error(
      'INVALID_OPTIONS',
      `queue '${name}': the broker refused ${refused} (${brokerDetail(message, 'invalid arg')}): fix ${optionOfArgument(refused)}`,
      { cause: error },
    );
  }
  const arg = /PRECONDITION_FAILED - inequivalent arg '([^']+)'/.exec(message)?.[1];
  if (arg === undefined) return errors.wrap(error, 'BROKER', `opening queue '${name}' failed`);
  const option = arg.startsWith('x-') ? optionOfArgument(arg) : undefined;
  const fix =
    role === 'deadLetter'
      ? 'mq declares a dead-letter queue as a classic durable queue with no arguments; name another deadLetter, or delete that queue on the broker'
      : option
        ? `set ${option} to match it, attach to it as it is with declare: false, or delete the queue on the broker`
        : 'it was declared by another app with other arguments; use another name, attach to it as it is with declare: false, or delete it on the broker';
  const detail = brokerDetail(message, 'inequivalent arg');
  const what = role === 'deadLetter' ? `dead-letter queue '${name}' (deadLetter)` : `queue '${name}'`;
  return errors.error(
    'INVALID_OPTIONS',
    `${what} exists on the broker with a different ${arg} (${detail}): ${fix}`,
    {
      cause: error,
    },
  );
}

/** RabbitMQ's reason from `from` on, without the quote amqplib closes its message with. */
function brokerDetail(message: string, from: string): string {
  return message.slice(message.indexOf(from)).replace(/"$/, '');
}
