import type { MqError } from '@mq/core/spi';
import type * as amqp from 'amqplib';
import { errors } from './errors.js';

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
}

/** The topology of a dead-letter queue: a classic durable queue, as an mq unicast sender declares it. */
export function deadLetterTopology(name: string): Topology {
  return { broadcast: false, isRecv: false, name, queueType: 'classic', deliveryLimit: undefined };
}

/** The `x-` arguments of a unicast queue: none for a classic one (general-mq's topology), else its type and limit. */
export function queueArguments(topology: Topology): Record<string, unknown> | undefined {
  if (topology.queueType === 'classic') return undefined;
  return {
    'x-queue-type': topology.queueType,
    ...(topology.deliveryLimit === undefined ? {} : { 'x-delivery-limit': topology.deliveryLimit }),
  };
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
 */
export async function declare(channel: amqp.Channel, topology: Topology): Promise<string | undefined> {
  const { name, broadcast, isRecv } = topology;
  if (!broadcast) {
    const args = queueArguments(topology);
    await channel.assertQueue(name, {
      durable: true,
      exclusive: false,
      autoDelete: false,
      ...(args ? { arguments: args } : {}),
    });
    return name;
  }
  await channel.assertExchange(name, 'fanout', { durable: false, autoDelete: false, internal: false });
  if (!isRecv) return undefined;
  // Non-durable: it cannot outlive its connection anyway, being exclusive.
  const { queue } = await channel.assertQueue('', { exclusive: true, durable: false, autoDelete: false });
  await channel.bindQueue(queue, name, '');
  return queue;
}

/** The queue options that set each `x-` argument, for errors that say what to change. */
const OPTION_OF_ARGUMENT: Readonly<Record<string, string>> = {
  'x-queue-type': 'queueType',
  'x-delivery-limit': 'deliveryLimit',
};

/**
 * The error for a failed open of queue `name`: a queue or exchange that exists with other arguments
 * (`PRECONDITION_FAILED - inequivalent arg ...`) is `INVALID_OPTIONS` naming the argument and what to do, since
 * retrying cannot fix it; anything else is `BROKER`.
 */
export function declareError(name: string, error: unknown, role?: 'deadLetter'): MqError {
  const message = error instanceof Error ? error.message : String(error);
  const arg = /PRECONDITION_FAILED - inequivalent arg '([^']+)'/.exec(message)?.[1];
  if (arg === undefined) return errors.wrap(error, 'BROKER', `opening queue '${name}' failed`);
  const option = OPTION_OF_ARGUMENT[arg];
  const fix =
    role === 'deadLetter'
      ? 'mq declares a dead-letter queue as a classic durable queue with no arguments; name another deadLetter, or delete that queue on the broker'
      : option
        ? `set ${option} to match it, or delete the queue on the broker`
        : 'it was declared by another app with other arguments; use another name, or delete it on the broker';
  const detail = message.slice(message.indexOf('inequivalent arg'));
  const what = role === 'deadLetter' ? `dead-letter queue '${name}' (deadLetter)` : `queue '${name}'`;
  return errors.error(
    'INVALID_OPTIONS',
    `${what} exists on the broker with a different ${arg} (${detail}): ${fix}`,
    {
      cause: error,
    },
  );
}
