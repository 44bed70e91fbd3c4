import { describe, it } from 'vitest';
import {
  declaresNoRequestReply,
  failedRequestsDropped,
  ignoresSignal,
  lateReplyToNext,
  repliesInArrivalOrder,
  replyLosesMetadata,
  replyWithoutReplyToResolves,
  requestsNeverExpire,
  requestsSurviveDrop,
} from './broken-backends-rpc.js';
import { failsExactly } from './evaluate.js';

// The request-reply group (issue 28): each case is proven on a broken memory backend.

describe('the request-reply cases catch broken backends', () => {
  it('a backend that hands each reply to the oldest waiting request fails concurrent-own-replies', async () => {
    await failsExactly(repliesInArrivalOrder, ['request-reply.concurrent-own-replies']);
  }, 60_000);

  it('a backend that hands a timed-out request’s late reply to the next request fails timeout-late-reply-dropped', async () => {
    await failsExactly(lateReplyToNext, ['request-reply.timeout-late-reply-dropped']);
  }, 60_000);

  it('a backend whose requests do not expire with their timeout fails timeout-expires-request', async () => {
    await failsExactly(requestsNeverExpire, ['request-reply.timeout-expires-request']);
  }, 60_000);

  it('a backend that ignores the signal fails abort', async () => {
    await failsExactly(ignoresSignal, ['request-reply.abort']);
  }, 60_000);

  it('a backend whose replies lose their metadata fails metadata-both-ways', async () => {
    await failsExactly(replyLosesMetadata, ['request-reply.metadata-both-ways']);
  }, 60_000);

  it('a backend that gives up on a request whose handler failed once fails server-throws-retried', async () => {
    await failsExactly(failedRequestsDropped, ['request-reply.server-throws-retried']);
  }, 60_000);

  it('a backend whose reply() without replyTo resolves fails reply-needs-reply-to', async () => {
    await failsExactly(replyWithoutReplyToResolves, ['request-reply.reply-needs-reply-to']);
  }, 60_000);

  it('a backend that sends a request again after its link dropped fails link-drop', async () => {
    await failsExactly(requestsSurviveDrop, ['request-reply.link-drop']);
  }, 60_000);

  it('a backend that declares requestReply false and serves requests anyway fails unsupported-refused', async () => {
    await failsExactly(declaresNoRequestReply, ['request-reply.unsupported-refused']);
  }, 60_000);
});
