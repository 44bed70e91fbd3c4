import type { Traits } from '@mq/core/spi';

/**
 * What `@mq/memory` can do: everything the contract asks. Said once, for the descriptor (`memoryBackend`) and for
 * every `MemoryQueue`.
 */
export const MEMORY_TRAITS: Traits = Object.freeze({
  broadcast: true,
  broadcastIsolated: true,
  nackRequeue: true,
  redeliverUnacked: true,
  retainUnicast: true,
  prefetch: true,
  sameConnectionReceivers: true,
  metadata: true,
  deadLetter: true,
  countsDeliveries: true,
  movesExactlyOnce: true,
  retriesBehind: true,
  broadcastRedelivery: true,
  topicRouting: true,
  requestReply: true,
  // One broker in the process hands a mailbox's messages out in order.
  orderedAcrossReceivers: true,
  // A retry is a copy at the back of the receiver's mailbox: the messages waiting go first.
  requeuesBehind: true,
});
