import { MQ_HEADERS } from '@mq/core/spi';
import type * as amqp from 'amqplib';
import { queueArguments, type Topology } from './topology.js';

/**
 * The header a retry copy of a topic message carries its topic in: the copy goes to its queue through the
 * default exchange, whose routing key is the queue's name.
 */
export const TOPIC_HEADER: string = MQ_HEADERS.topic;

/**
 * The durable queue of group `group` in topic space `space`: `<space>:<group>`. The `:` keeps it apart from every
 * queue mq declares by name (their names never have one), and says what it is in the management UI.
 */
export function groupQueueName(space: string, group: string): string {
  return `${space}:${group}`;
}

/** What a topic queue declares besides the space's exchange. */
export interface TopicTopology {
  /** The topic space: a durable topic exchange of that name. */
  readonly space: string;
  /** False (`declare: false`) to only check that the space's exchange exists: someone else declares it. */
  readonly declareSpace: boolean;
  /** A receiver's patterns (binding keys); none on a sender. */
  readonly topics: readonly string[];
  /** A group receiver's group; absent on broadcast receivers and senders. */
  readonly group: string | undefined;
  /** The group queue's type, limit and `x-` arguments (`queueArguments`). */
  readonly queue: Pick<Topology, 'queueType' | 'deliveryLimit' | 'arguments'>;
}

/**
 * Declares a topic queue on `channel` and returns the queue a receiver consumes from:
 * - the space: a durable topic exchange (senders publish there with the message's topic as routing key);
 * - a group receiver: the durable queue {@link groupQueueName}, bound with each pattern;
 * - a broadcast receiver: an exclusive, server-named queue bound with each pattern.
 * With `declareSpace` false the exchange is only checked (a passive declare, 404 when missing).
 * Bindings are declared on every open, so a reconnect restores them (a group queue keeps those of earlier
 * receivers too: RabbitMQ bindings stay until unbound).
 */
export async function declareTopic(
  channel: amqp.Channel,
  topology: TopicTopology,
): Promise<string | undefined> {
  const { space, topics, group } = topology;
  if (topology.declareSpace) {
    await channel.assertExchange(space, 'topic', { durable: true, autoDelete: false, internal: false });
  } else {
    // Attached to a topic exchange someone else declared, as it is; a group's queue is still mq's own.
    await channel.checkExchange(space);
  }
  if (topics.length === 0) return undefined;
  let queue: string;
  if (group === undefined) {
    // Non-durable: it cannot outlive its connection anyway, being exclusive.
    queue = (await channel.assertQueue('', { exclusive: true, durable: false, autoDelete: false })).queue;
  } else {
    queue = groupQueueName(space, group);
    const args = queueArguments({
      broadcast: false,
      isRecv: true,
      name: queue,
      // mq names and declares group queues itself.
      declare: true,
      ...topology.queue,
    });
    await channel.assertQueue(queue, {
      durable: true,
      exclusive: false,
      autoDelete: false,
      ...(args ? { arguments: args } : {}),
    });
  }
  for (const pattern of topics) await channel.bindQueue(queue, space, pattern);
  return queue;
}

/** The topic of a delivery on a topic receiver: its routing key, or for a retry copy the header that keeps it. */
export function deliveryTopic(delivery: amqp.ConsumeMessage, space: string): string | undefined {
  if (delivery.fields.exchange === space) return delivery.fields.routingKey;
  const kept = delivery.properties.headers?.[TOPIC_HEADER];
  if (typeof kept === 'string') return kept;
  if (Buffer.isBuffer(kept)) return kept.toString('utf8');
  return delivery.fields.routingKey;
}
