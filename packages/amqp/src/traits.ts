import type { Traits } from '@mq/core/spi';
import { RESERVED_HEADERS } from './properties.js';

/**
 * What `@mq/amqp` can do on RabbitMQ: everything the contract asks, retries and dead letters included. Said once,
 * for the descriptor (`amqpBackend`) and for every `AmqpQueue`.
 */
export const AMQP_TRAITS: Traits = Object.freeze({
  broadcast: true,
  broadcastIsolated: true,
  nackRequeue: true,
  redeliverUnacked: true,
  retainUnicast: true,
  prefetch: true,
  // `uri` may list several brokers (a cluster): core rotates, the connection dials `addressIndex`.
  multipleAddresses: true,
  sameConnectionReceivers: true,
  // SendOptions map to AMQP basic properties and the headers table.
  metadata: true,
  // Retries go behind the others (the tail of the queue), dead letters to a durable queue: copies confirmed,
  // then the original acked (a drop in between hands out the original again: at least once).
  requeuesBehind: true,
  deadLetter: true,
  countsDeliveries: true,
  movesExactlyOnce: false,
  // A retry is a copy at the tail of the queue every receiver of the name consumes from.
  retriesBehind: true,
  // Each broadcast receiver has its own queue: a nack or a retry goes back there.
  broadcastRedelivery: true,
  // A durable topic exchange per space, a durable queue per group, an exclusive queue per broadcast receiver.
  topicRouting: true,
  // RabbitMQ's direct reply-to: a no-ack consumer of `amq.rabbitmq.reply-to` on each requesting sender's channel.
  requestReply: true,
  // One channel per queue, one socket per connection: RabbitMQ's deliveries to a connection's consumers keep the queue's order.
  orderedAcrossReceivers: true,
  reservedHeaders: [...RESERVED_HEADERS],
});
