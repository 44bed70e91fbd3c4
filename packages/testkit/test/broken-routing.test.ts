import { describe, it } from 'vitest';
import {
  acceptsBadRouting,
  bindsOnlyOnce,
  broadcastShares,
  copyPerPattern,
  groupsIgnored,
  groupWithoutBacklog,
  hashNeedsOne,
  hashPrefix,
  ignoresPatterns,
  oneQueueForAllGroups,
  retryLosesTopic,
  starMatchesMany,
  topicRoutingUndeclared,
} from './broken-routing.js';
import { failsExactly } from './evaluate.js';

// The routing group of the contract (issue 27): each case is proven to fail on a broken memory backend.

describe('the pattern cases catch wrong matchers', () => {
  it("a backend whose '*' matches several words fails star-is-one-word", async () => {
    await failsExactly(starMatchesMany, ['routing.star-is-one-word']);
  }, 60_000);

  it("a backend whose '#' needs a word fails hash-empty-remainder; one that matches '#' by prefix fails hash-is-the-rest", async () => {
    await failsExactly(hashNeedsOne, ['routing.hash-empty-remainder']);
    await failsExactly(hashPrefix, ['routing.hash-is-the-rest']);
  }, 60_000);

  it('a backend that ignores patterns fails no-match and the pattern cases', async () => {
    await failsExactly(ignoresPatterns, [
      'routing.no-match',
      'routing.star-is-one-word',
      'routing.hash-is-the-rest',
    ]);
  }, 60_000);

  it('a backend that delivers a copy per matching pattern fails two-patterns-once', async () => {
    await failsExactly(copyPerPattern, ['routing.two-patterns-once']);
  }, 60_000);
});

describe('the group and broadcast cases catch wrong sharing', () => {
  it('a backend that ignores groups fails group-shares and group-backlog', async () => {
    await failsExactly(groupsIgnored, ['routing.group-shares', 'routing.group-backlog']);
  }, 60_000);

  it('a backend with one queue for every group fails each-group-its-copy', async () => {
    await failsExactly(oneQueueForAllGroups, ['routing.each-group-its-copy']);
  }, 60_000);

  it('a backend whose broadcast receivers share fails broadcast', async () => {
    await failsExactly(broadcastShares, ['routing.broadcast']);
  }, 60_000);

  it('a backend that binds a broadcast receiver only on its first open fails link-drop', async () => {
    await failsExactly(bindsOnlyOnce, ['routing.link-drop']);
  }, 60_000);

  it('a backend whose group keeps nothing without receivers fails group-backlog', async () => {
    await failsExactly(groupWithoutBacklog, ['routing.group-backlog']);
  }, 60_000);
});

describe('the retry case catches a lost topic', () => {
  it('a backend whose retried topic messages lose their topic fails retry-keeps-topic', async () => {
    await failsExactly(retryLosesTopic, ['routing.retry-keeps-topic']);
  }, 60_000);
});

describe('the refusal cases catch lax backends', () => {
  it('a backend that lets bad patterns, a missing group and a stray topic through fails refusals', async () => {
    await failsExactly(acceptsBadRouting, ['routing.refusals']);
  }, 60_000);

  it('a backend declaring topicRouting false that still makes topic queues fails unsupported', async () => {
    await failsExactly(topicRoutingUndeclared, ['routing.unsupported']);
  }, 60_000);
});
