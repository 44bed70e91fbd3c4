import { contractCases, evaluateContract } from '@mq/core/contract';
import { BaseQueue, type Connection, defineBackend } from '@mq/core/spi';
import { type MemoryQueueOptions, memoryBackend, memoryQueueSetup } from '@mq/memory';
import { describe, expect, it } from 'vitest';
import {
  acceptsUndeclaredSharing,
  acksBatchedLate,
  bestEffortAckDoesNothing,
  bestEffortLostOnClose,
  broadcastDeafAfterDrop,
  broadcastTwiceAfterDrop,
  copiesWithoutHeaders,
  dropsMetadata,
  duplicatesDeadLetters,
  iterationNeverCloses,
  lastReceiverPerConnectionWins,
  latin1Headers,
  loseDeadLetters,
  neverRedelivered,
  redeliveryLosesMetadata,
  refusesOnlyInCreateQueue,
  retriesAtHead,
  servesUndeclaredBroadcast,
  servesUndeclaredMetadata,
} from './broken-backends.js';
import { failed, failsExactly, target } from './evaluate.js';

describe('the cases on retention, shared connections, small prefetch, refusals and link drops catch broken backends', () => {
  it('a backend that loses the best-effort sends still batched when the sender closes fails kept-outlives-sender', async () => {
    await failsExactly(bestEffortLostOnClose, ['unicast.kept-outlives-sender']);
  }, 60_000);

  it('a backend whose last receiver of a name on a connection takes all its messages fails both shared-connection cases', async () => {
    await failsExactly(lastReceiverPerConnectionWins, [
      'unicast.receivers-on-one-connection',
      'broadcast.receivers-on-one-connection',
    ]);
  }, 60_000);

  it('a backend whose best-effort ack does nothing stalls at its prefetch and fails both small-prefetch cases', async () => {
    await failsExactly(bestEffortAckDoesNothing, [
      'workload.small-prefetch-many-times',
      'workload.small-prefetch-many-times-broadcast',
    ]);
  }, 60_000);

  it('backends whose broadcast receivers come back from a drop subscribed twice or not at all fail link-drop-broadcast-once', async () => {
    await failsExactly(broadcastTwiceAfterDrop, ['faults.link-drop-broadcast-once']);
    await failsExactly(broadcastDeafAfterDrop, ['faults.link-drop-broadcast-once']);
  }, 60_000);

  it('a backend whose acks resolve before they reach the broker fails link-drop-acked-stay-acked', async () => {
    await failsExactly(acksBatchedLate, ['faults.link-drop-acked-stay-acked']);
  }, 60_000);

  it('backends that declare a capability false and serve the feature anyway fail the refusal cases', async () => {
    await failsExactly(servesUndeclaredBroadcast, [
      'validation.unsupported-broadcast',
      'validation.new-refuses-broadcast',
    ]);
    await failsExactly(acceptsUndeclaredSharing, ['validation.unsupported-same-connection-receivers']);
  }, 60_000);

  it('a backend whose queue class refuses only in createQueue fails the cases that construct with new, and passes the others', async () => {
    await failsExactly(refusesOnlyInCreateQueue, [
      'validation.new-refuses-broadcast',
      'validation.new-refuses-max-deliveries',
      'validation.new-refuses-dead-letter',
    ]);
    const outcomes = await evaluateContract(
      target(refusesOnlyInCreateQueue),
      contractCases.filter((c) => c.id.startsWith('validation.unsupported-')),
    );
    expect(outcomes.filter((o) => o.outcome === 'passed').map((o) => o.id)).toEqual([
      'validation.unsupported-broadcast',
      'validation.unsupported-dead-letter',
      'validation.unsupported-max-deliveries',
    ]);
  }, 60_000);

  it('a unicast-only backend whose queue class refuses broadcast (its traits say so) passes every refusal case', async () => {
    class UnicastOnlyQueue extends BaseQueue {
      constructor(options: MemoryQueueOptions, connection: Connection) {
        const setup = memoryQueueSetup(options, connection);
        super({ ...setup, traits: { ...setup.traits, broadcast: false } });
      }
    }
    const unicastOnly = defineBackend({
      ...memoryBackend,
      name: 'unicast-only',
      capabilities: { ...memoryBackend.capabilities, broadcast: false },
      createQueue: (options, connection) => new UnicastOnlyQueue(options as MemoryQueueOptions, connection),
    });
    const cases = contractCases.filter((c) => c.group === 'validation' || c.group === 'unicast');
    const outcomes = await evaluateContract(target(unicastOnly), cases);
    expect(failed(outcomes)).toEqual([]);
    expect(outcomes.find((o) => o.id === 'validation.unsupported-broadcast')?.outcome).toBe('passed');
    expect(outcomes.find((o) => o.id === 'validation.new-refuses-broadcast')?.outcome).toBe('passed');
  }, 60_000);

  it('backends that drop metadata, lose it on redelivery, never say redelivered, mangle non-ASCII headers or carry undeclared metadata each fail the case that pins it', async () => {
    await failsExactly(dropsMetadata, [
      'metadata.round-trip',
      'metadata.many-non-ascii-headers',
      'metadata.redelivered-keeps-metadata',
    ]);
    await failsExactly(redeliveryLosesMetadata, ['metadata.redelivered-keeps-metadata']);
    await failsExactly(neverRedelivered, ['metadata.redelivered-keeps-metadata']);
    await failsExactly(latin1Headers, ['metadata.many-non-ascii-headers']);
    await failsExactly(servesUndeclaredMetadata, ['metadata.refused-without-capability']);
  }, 90_000);
});

describe('the failure-policy and iteration cases catch broken backends', () => {
  it('a backend that retries with a nack at the head of the queue stalls the messages behind and fails throwing-handler-never-stalls', async () => {
    await failsExactly(retriesAtHead, ['failures.throwing-handler-never-stalls']);
  }, 60_000);

  it('a backend that confirms dead letters it never stores fails both dead-letter cases', async () => {
    await failsExactly(loseDeadLetters, [
      'failures.poison-to-dead-letter',
      'failures.link-drop-while-dead-lettering',
    ]);
  }, 60_000);

  it('a backend that stores each dead letter twice fails both dead-letter cases (it says movesExactlyOnce)', async () => {
    await failsExactly(duplicatesDeadLetters, [
      'failures.poison-to-dead-letter',
      'failures.link-drop-while-dead-lettering',
    ]);
  }, 60_000);

  it('a backend whose retried copies lose their headers (delay and count) fails the delay and delivery-limit cases', async () => {
    await failsExactly(copiesWithoutHeaders, [
      'failures.retry-delay-holds',
      'failures.poison-to-dead-letter',
      'failures.drop-without-dead-letter',
    ]);
  }, 60_000);

  it('a backend whose messages() loop leaves the receiver open on break fails the iteration cases that break', async () => {
    await failsExactly(iterationNeverCloses, ['iteration.backlog', 'iteration.break-hands-back-unacked']);
  }, 60_000);
});
