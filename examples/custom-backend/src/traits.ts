import type { Traits } from '@mq/core/spi';

/** What `@acme/mq-redis` can do, said once: for the descriptor (`redisBackend`) and for every `RedisQueue`. */
export const REDIS_TRAITS: Traits = Object.freeze({
  // PUB/SUB channels live apart from list keys (`b:` versus `q:`), so same-name queues never meet.
  broadcast: true,
  broadcastIsolated: true,
  // PUB/SUB has no acks: a broadcast message is gone once delivered, so a nack or a failed handler drops it.
  broadcastRedelivery: false,
  // Unicast lists keep messages until a receiver comes; a reliable receiver's unacked messages sit in its
  // processing list and go back to the queue on nack, on close and when it reopens after a lost link.
  retainUnicast: true,
  nackRequeue: true,
  redeliverUnacked: true,
  // A reliable receiver stops taking messages while `prefetch` of them await an ack.
  prefetch: true,
  // Each receiver blocks on its own Redis client, so several of one name can share a connection.
  sameConnectionReceivers: true,
  // No metadata: a message cannot say how often it was delivered, so maxDeliveries is refused; a nack puts it
  // at the back of the list, so core's retry (hold for retryDelayMillis, then nack) lets the others go first.
  countsDeliveries: false,
  deadLetter: false,
});
