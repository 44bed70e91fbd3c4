import { describe, it } from 'vitest';
import { acksFailUntilReady, duplicatesWhenStartedTogether, lateAcksIgnored } from './broken-backends.js';
import { failsExactly } from './evaluate.js';

describe('the workload cases catch broken backends', () => {
  it('a backend whose first deliveries after each open cannot be acked (the AMQP backlog stall) fails every workload case', async () => {
    await failsExactly(acksFailUntilReady, [
      'workload.backlog-ack-at-once-prefetch-1',
      'workload.backlog-ack-at-once-prefetch-5',
      'workload.backlog-ack-at-once-prefetch-50',
      'workload.backlog-ack-in-microtask',
      'workload.backlog-receivers-start-together',
      'workload.broadcast-join-live-stream',
      'workload.unicast-join-live-stream',
      'workload.reconnect-with-backlog',
      'workload.mixed-ack-timing',
      // Cases outside the group catch it too, now that every ack a case makes is checked.
      'unicast.kept-before-receiver',
      'unicast.one-to-one',
      'reliable.double-settle',
    ]);
  }, 120_000);

  it('a backend that ignores acks made after the handler returned fails the late-ack workload cases', async () => {
    await failsExactly(lateAcksIgnored, ['workload.backlog-ack-in-microtask', 'workload.mixed-ack-timing']);
  }, 60_000);

  it('a backend that duplicates deliveries to receivers started together fails the simultaneous-start case', async () => {
    await failsExactly(duplicatesWhenStartedTogether, ['workload.backlog-receivers-start-together']);
  }, 60_000);
});
