import { contractCases, evaluateContract } from '@mq/core/contract';
import { describe, expect, it } from 'vitest';
import {
  acksMultiple,
  acksOnDelivery,
  backsOffWithoutCap,
  broadcastToOne,
  buffersWhileDisconnected,
  closeWaitsForever,
  dropsEveryTenth,
  escapesRejection,
  foldsNames,
  handlerOnSenderIgnored,
  holdsEverySend,
  ignoresNack,
  leavesTimerOnClose,
  neverBacksOff,
  prefetchCappedAtTen,
  prefetchOffByOne,
  prefetchOnSenderIgnored,
  prefetchRequired,
  redeliversSameBuffer,
  rejectsWhileDown,
  resolvesBeforeStored,
  retriesTooSoon,
  statusAfterClosed,
  stopsRetrying,
  throwsWithoutErrorListener,
  truncatesLargePayloads,
} from './broken-backends.js';
import { failed, failsExactly, target } from './evaluate.js';

describe('the contract catches broken backends', () => {
  it('a backend that drops every 10th message fails the unicast and concurrency cases', async () => {
    await failsExactly(dropsEveryTenth, [
      'unicast.one-to-one',
      'unicast.one-to-one-reliable',
      'unicast.one-to-three',
      'broadcast.one-to-three',
      'concurrency.fifty-senders',
      'concurrency.many-in-flight',
      'reliable.random-nacks',
    ]);
  }, 120_000);

  it('a backend that delivers a broadcast to only one receiver fails broadcast one-to-three', async () => {
    const ids = failed(await evaluateContract(target(broadcastToOne)));
    expect(ids).toContain('broadcast.one-to-three');
    const broadcastCases = new Set(
      contractCases.filter((c) => c.requires.includes('broadcast')).map((c) => c.id),
    );
    expect(ids.filter((id) => !broadcastCases.has(id))).toEqual([]);
  }, 120_000);

  it('a backend whose reliable send resolves before the message is stored fails send-resolves-when-stored', async () => {
    const ids = failed(await evaluateContract(target(resolvesBeforeStored)));
    expect(ids).toContain('reliable.send-resolves-when-stored');
  }, 120_000);

  it('a backend that ignores nack fails the nack cases', async () => {
    const ids = failed(await evaluateContract(target(ignoresNack)));
    expect(ids).toEqual(expect.arrayContaining(['reliable.nack-redelivers', 'reliable.random-nacks']));
    const nackCases = new Set(
      contractCases.filter((c) => c.requires.includes('nackRequeue')).map((c) => c.id),
    );
    expect(ids.filter((id) => !nackCases.has(id))).toEqual([]);
  }, 120_000);

  it('backends that break the portability rules fail the validation cases that pin them', async () => {
    await failsExactly(prefetchOnSenderIgnored, ['validation.prefetch-on-sender']);
    await failsExactly(prefetchRequired, ['validation.receiver-default-prefetch']);
    await failsExactly(handlerOnSenderIgnored, ['validation.handler-on-sender']);
  }, 60_000);

  it('a backend that leaves an unhandled rejection fails the cases that send, though each of them passes otherwise', async () => {
    await failsExactly(escapesRejection, ['unicast.one-to-one', 'reliable.double-settle']);
  }, 60_000);

  it('a backend that leaves a timer running after close fails the cases that check nothing is left behind', async () => {
    await failsExactly(leavesTimerOnClose, [
      'close.nothing-keeps-process-alive',
      'close.unreachable-close-leaves-nothing',
    ]);
  }, 60_000);

  it('a backend that emits a status event after closed fails close-idempotent', async () => {
    await failsExactly(statusAfterClosed, ['lifecycle.close-idempotent']);
  }, 60_000);

  it('a backend that redelivers a nacked message in the buffer the handler changed fails nack-redelivers-original-bytes', async () => {
    await failsExactly(redeliversSameBuffer, ['reliable.nack-redelivers-original-bytes']);
  }, 60_000);

  it('backends that truncate large payloads, fold names, ack several messages at once or buffer sends while disconnected each fail the case that pins it', async () => {
    await failsExactly(truncatesLargePayloads, ['payloads.several-mebibytes']);
    await failsExactly(foldsNames, ['unicast.names-apart']);
    await failsExactly(acksMultiple, ['reliable.ack-settles-only-its-message']);
    await failsExactly(buffersWhileDisconnected, ['lifecycle.send-while-disconnected']);
  }, 120_000);

  it('a backend whose failing handler crashes the process when nobody listens for errors fails the no-listener case', async () => {
    await failsExactly(throwsWithoutErrorListener, ['reliable.handler-throws-without-error-listener']);
  }, 60_000);

  it('backends that retry too soon, stop retrying, never back off or back off without a cap fail the retry cases', async () => {
    const retryCases = ['lifecycle.unreachable-keeps-retrying', 'lifecycle.unreachable-backs-off'];
    await failsExactly(retriesTooSoon, retryCases);
    await failsExactly(stopsRetrying, retryCases);
    // Fixed or unbounded waits still retry, never sooner than reconnectMillis: only the backoff case sees them.
    await failsExactly(neverBacksOff, ['lifecycle.unreachable-backs-off']);
    await failsExactly(backsOffWithoutCap, ['lifecycle.unreachable-backs-off']);
    const outcomes = await evaluateContract(
      target(neverBacksOff),
      contractCases.filter((c) => c.id === 'lifecycle.unreachable-keeps-retrying'),
    );
    expect(failed(outcomes)).toEqual([]);
  }, 90_000);

  it('backends that lose confirmed sends, drop what a dying receiver held, stop retrying or hold sends while down fail the fault cases', async () => {
    await failsExactly(resolvesBeforeStored, ['faults.restart-mid-stream', 'faults.links-cut-mid-stream']);
    await failsExactly(acksOnDelivery, ['faults.receiver-dies-holding']);
    await failsExactly(stopsRetrying, [
      'faults.restart-mid-stream',
      'faults.links-cut-mid-stream',
      'faults.unreachable-sends-settle',
    ]);
    await failsExactly(buffersWhileDisconnected, [
      'faults.unreachable-sends-settle',
      'faults.sends-wait-through-drop',
    ]);
  }, 180_000);

  it('a backend that holds every send while its broker is down, without bound, fails unreachable-sends-settle', async () => {
    await failsExactly(holdsEverySend, ['faults.unreachable-sends-settle']);
  }, 60_000);

  it('a backend whose close() waits for a handler that never returns fails bounded-by-close-timeout', async () => {
    await failsExactly(closeWaitsForever, ['close.bounded-by-close-timeout']);
  }, 60_000);

  it('a backend whose sends fail while the link is down for a moment (or right after connect) fails sends-wait-through-drop', async () => {
    await failsExactly(rejectsWhileDown, ['faults.sends-wait-through-drop']);
  }, 60_000);

  it('backends whose prefetch window is off by one or capped fail the prefetch cases that see it', async () => {
    await failsExactly(prefetchOffByOne, [
      'reliable.prefetch-bounds-unacked',
      'reliable.prefetch-fifty-bounds-unacked',
    ]);
    await failsExactly(prefetchCappedAtTen, ['reliable.prefetch-fifty-bounds-unacked']);
    const outcomes = await evaluateContract(
      target(prefetchCappedAtTen),
      contractCases.filter((c) => c.id === 'reliable.prefetch-bounds-unacked'),
    );
    expect(failed(outcomes)).toEqual([]);
  }, 60_000);

  it('the healthy memory backend fails no case', async () => {
    const { memoryBackend } = await import('@mq/memory');
    const outcomes = await evaluateContract(target(memoryBackend));
    expect(failed(outcomes)).toEqual([]);
    // Only the refusals of what it can do, and the cases that need a TCP link (to freeze, or several addresses), are skipped.
    expect(outcomes.filter((o) => o.outcome === 'skipped').map((o) => o.id)).toEqual([
      'validation.unsupported-broadcast',
      'validation.unsupported-same-connection-receivers',
      'validation.unsupported-dead-letter',
      'validation.unsupported-max-deliveries',
      'validation.new-refuses-broadcast',
      'validation.new-refuses-max-deliveries',
      'validation.new-refuses-dead-letter',
      'close.silent-broker-send',
      'close.silent-broker-receiver-close',
      'faults.frozen-link-heartbeat',
      'faults.failover-to-next-address',
      'faults.failover-then-work',
      'metadata.refused-without-capability',
      'routing.unsupported',
      'request-reply.unsupported-refused',
    ]);
  }, 120_000);
});
