import type * as amqp from 'amqplib';

/** What a queue declares on the broker; the same as general-mq, so apps on both can share a broker. */
export interface Topology {
  /** True for a fan-out exchange, false for a durable queue. */
  broadcast: boolean;
  /** True for a receiver. */
  isRecv: boolean;
  /** The queue (unicast) or exchange (broadcast) name. */
  name: string;
}

/** Where a sender publishes: the exchange and the routing key. */
export function route(topology: Topology): { exchange: string; routingKey: string } {
  return topology.broadcast
    ? { exchange: topology.name, routingKey: '' }
    : { exchange: '', routingKey: topology.name };
}

/**
 * Declares the topology on `channel` and returns the queue a receiver consumes from:
 * - unicast: a durable queue `name` (reached through the default exchange);
 * - broadcast: a non-durable fanout exchange `name`; a receiver also gets an exclusive, server-named queue
 *   bound to it.
 */
export async function declare(channel: amqp.Channel, topology: Topology): Promise<string | undefined> {
  const { name, broadcast, isRecv } = topology;
  if (!broadcast) {
    await channel.assertQueue(name, { durable: true, exclusive: false, autoDelete: false });
    return name;
  }
  await channel.assertExchange(name, 'fanout', { durable: false, autoDelete: false, internal: false });
  if (!isRecv) return undefined;
  // Non-durable: it cannot outlive its connection anyway, being exclusive.
  const { queue } = await channel.assertQueue('', { exclusive: true, durable: false, autoDelete: false });
  await channel.bindQueue(queue, name, '');
  return queue;
}
