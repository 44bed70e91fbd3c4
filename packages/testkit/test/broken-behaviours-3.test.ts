import { describe, it } from 'vitest';
import { duplicatesDeadLetters, loseDeadLetters, retriesAtHead } from './broken-backends.js';
import {
  backlogLosesMetadata,
  broadcastRetryToAll,
  capsBacklogAtThousand,
  concurrentOpenSharesConsumer,
  confirmsLargeEarly,
  deadLetterKeepsRetryHeaders,
  deadLettersThenAcks,
  deepQueueOverflowLifo,
  deliveryCountFromFlag,
  expirationInSeconds,
  handBackLosesMetadata,
  holdsRetryUntilStamped,
  ignoresExpiration,
  prefetchPerConnection,
  queueLeavesListener,
  queueLeavesRetryTimer,
  redeliveredOnlyAfterNack,
  redeliveredReversed,
  republishesConfirmedAfterReconnect,
  restampsRedeliveries,
  restartLosesHeld,
  retriesOnlyToTheirReceiver,
  sharedHeaders,
  stampsOnDelivery,
  unboundedDefaultPrefetch,
} from './broken-backends-3.js';
import { failsExactly } from './evaluate.js';

// The third round of the contract (issues 32 and 33): each case is proven on a broken memory backend.

describe('the dead-letter move under a link drop is caught at the exact moment', () => {
  it('a backend that stores a dead letter and acks the original in two steps dead-letters it twice when the link drops in between, and fails link-drop-while-dead-lettering', async () => {
    await failsExactly(deadLettersThenAcks, ['failures.link-drop-while-dead-lettering']);
    // The older variants still fail it, now at fixed moments.
    await failsExactly(duplicatesDeadLetters, ['failures.link-drop-while-dead-lettering']);
    await failsExactly(loseDeadLetters, ['failures.link-drop-while-dead-lettering']);
  }, 60_000);
});

describe('the metadata cases of the third round catch broken backends', () => {
  it('a backend whose backlog keeps bodies only fails kept-in-backlog, and expiration (the expiry is lost too)', async () => {
    await failsExactly(backlogLosesMetadata, ['metadata.kept-in-backlog', 'metadata.expiration']);
  }, 60_000);

  it('backends that stamp messages on delivery, or anew when they come again, fail timestamp-of-sending', async () => {
    await failsExactly(stampsOnDelivery, ['metadata.timestamp-of-sending']);
    await failsExactly(restampsRedeliveries, ['metadata.timestamp-of-sending']);
  }, 60_000);

  it('a backend that hands one headers object to every receiver and redelivery fails headers-are-own', async () => {
    await failsExactly(sharedHeaders, ['metadata.headers-are-own']);
  }, 60_000);

  it('backends that flag only nacked messages as redelivered, or lose the metadata of what a receiver handed back, fail redelivered-after-receiver-lost', async () => {
    await failsExactly(redeliveredOnlyAfterNack, ['metadata.redelivered-after-receiver-lost']);
    await failsExactly(handBackLosesMetadata, ['metadata.redelivered-after-receiver-lost']);
  }, 60_000);

  it('a backend that counts deliveries from the redelivered flag fails delivery-count-grows', async () => {
    await failsExactly(deliveryCountFromFlag, ['metadata.delivery-count-grows']);
  }, 60_000);

  it('backends that never expire messages, or expire them far too soon, fail expiration', async () => {
    await failsExactly(ignoresExpiration, ['metadata.expiration']);
    await failsExactly(expirationInSeconds, ['metadata.expiration']);
  }, 60_000);
});

describe('the failure-policy cases of the third round catch broken backends', () => {
  it('a backend whose dead letters keep the retry headers fails dead-letter-headers', async () => {
    await failsExactly(deadLetterKeepsRetryHeaders, ['failures.dead-letter-headers']);
  }, 60_000);

  it('a backend that retries a broadcast receiver’s failure through the exchange fails broadcast-retry-to-one', async () => {
    await failsExactly(broadcastRetryToAll, ['failures.broadcast-retry-to-one']);
  }, 60_000);

  it('backends whose retries stay with the receiver they failed on fail retry-taken-by-another (and, where the copy is addressed to that receiver, retry-survives-receiver)', async () => {
    await failsExactly(retriesOnlyToTheirReceiver, [
      'failures.retry-taken-by-another',
      'failures.retry-survives-receiver',
    ]);
    await failsExactly(retriesAtHead, ['failures.retry-taken-by-another']);
  }, 60_000);

  it('a backend that holds a retried copy until its stamped time, whoever gets it, fails retry-survives-receiver', async () => {
    await failsExactly(holdsRetryUntilStamped, ['failures.retry-survives-receiver']);
  }, 60_000);
});

describe('the prefetch and order cases catch broken backends', () => {
  it('a backend whose prefetch bounds the connection fails prefetch-per-receiver', async () => {
    await failsExactly(prefetchPerConnection, ['reliable.prefetch-per-receiver']);
  }, 60_000);

  it('a backend without a default prefetch fails default-prefetch-bounds', async () => {
    await failsExactly(unboundedDefaultPrefetch, ['reliable.default-prefetch-bounds']);
  }, 60_000);

  it('a backend that reads a deep backlog’s overflow newest first fails deep-backlog', async () => {
    await failsExactly(deepQueueOverflowLifo, ['order.deep-backlog']);
  }, 60_000);

  it('a backend that keeps 1,000 messages per queue fails deep-backlog and backlog-kept-whole', async () => {
    await failsExactly(capsBacklogAtThousand, ['order.deep-backlog', 'unicast.backlog-kept-whole']);
  }, 60_000);

  it('a backend that hands messages back in reverse order fails nacked-in-order and handed-back-in-order', async () => {
    await failsExactly(redeliveredReversed, ['order.nacked-in-order', 'order.handed-back-in-order']);
  }, 60_000);

  it('a backend whose receivers opened together share one consumer fails receivers-started-together', async () => {
    await failsExactly(concurrentOpenSharesConsumer, ['unicast.receivers-started-together']);
  }, 60_000);
});

describe('the reliability, fault and close cases of the third round catch broken backends', () => {
  it('a backend that confirms large payloads before storing them fails stored-before-resolve-any-size', async () => {
    await failsExactly(confirmsLargeEarly, ['reliable.stored-before-resolve-any-size']);
  }, 60_000);

  it('a backend whose restart forgets delivered, unacked messages fails restart-redelivers-held', async () => {
    await failsExactly(restartLosesHeld, ['faults.restart-redelivers-held']);
  }, 90_000);

  it('a backend that publishes confirmed messages again after a link comes back fails every case whose sender link drops, every time', async () => {
    for (let run = 0; run < 3; run += 1) {
      await failsExactly(republishesConfirmedAfterReconnect, [
        'faults.sender-link-back-no-republish',
        'faults.restart-mid-stream',
        'faults.links-cut-mid-stream',
      ]);
    }
  }, 120_000);

  it('backends whose closed queue leaves a listener on its connection or a retry timer running fail queue-close-leaves-nothing', async () => {
    await failsExactly(queueLeavesListener, ['close.queue-close-leaves-nothing']);
    await failsExactly(queueLeavesRetryTimer, ['close.queue-close-leaves-nothing']);
  }, 60_000);
});
