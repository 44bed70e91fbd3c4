import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  MQ_HEADERS,
  type MqError,
  packageErrors,
  type SendOptions,
  SettleOnceMessage,
} from '../src/spi/index.js';
import type { FailurePolicyOptions } from '../src/spi/options/failure-options.js';
import { FailurePolicy } from '../src/spi/queue/failure-policy.js';
import { flush } from './fixtures.js';

// The failure policy on its own, the clock faked: every retry, give-up and deadline happens at an exact time.
beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** The options of a receiver that gives none, with `overrides`. */
function optionsWith(overrides: Partial<FailurePolicyOptions> = {}): FailurePolicyOptions {
  return {
    retryDelayMillis: 1000,
    maxDeliveries: undefined,
    deadLetter: undefined,
    ackTimeoutMillis: undefined,
    ...overrides,
  };
}

/** A copy the policy asked for, and how the test answers it. */
interface Copy {
  to: string | undefined;
  options: SendOptions;
  resolve(): void;
  reject(error: unknown): void;
}

/** A receiver as the policy sees it: what it reported, the copies it asked for. */
function receiver(requeuesBehind = false) {
  const reports: MqError[] = [];
  const copies: Copy[] = [];
  const host = {
    errors: packageErrors('mq/test'),
    name: 'jobs',
    requeuesBehind,
    republish: (to: string | undefined, _message: SettleOnceMessage, options: SendOptions) =>
      new Promise<void>((resolve, reject) => copies.push({ to, options, resolve, reject })),
    report: (error: MqError) => reports.push(error),
  };
  return { host, reports, copies, codes: () => reports.map((error) => error.code) };
}

/** A delivered message whose acks and nacks are recorded. */
function delivered(meta: ConstructorParameters<typeof SettleOnceMessage>[2] = {}) {
  const settles: Array<'ack' | 'nack'> = [];
  const message = new SettleOnceMessage(
    Buffer.from('job'),
    async (requeue) => {
      settles.push(requeue ? 'nack' : 'ack');
    },
    meta,
  );
  return { message, settles };
}

describe('FailurePolicy', () => {
  it('holds a failed message for retryDelayMillis, then nacks it, saying so', async () => {
    const { host, reports } = receiver();
    const policy = new FailurePolicy(optionsWith({ retryDelayMillis: 500 }), host);
    const { message, settles } = delivered();
    policy.failed(message, new Error('boom'), 'handler failed');
    expect(reports.map((r) => r.message)).toEqual([
      '[mq/test] handler failed: boom; retrying in 500 ms (delivery 1)',
    ]);
    await vi.advanceTimersByTimeAsync(499);
    expect(settles).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(settles).toEqual(['nack']);
  });

  it('where the backend requeues behind, retries by a copy behind the others (counting and timing it), and acks the original only once the copy is confirmed', async () => {
    const { host, copies } = receiver(true);
    const policy = new FailurePolicy(optionsWith({ retryDelayMillis: 2000 }), host);
    const { message, settles } = delivered({ messageId: 'm1', headers: { app: 'x' } });
    policy.failed(message, new Error('boom'), 'handler failed');
    expect(copies).toHaveLength(1);
    expect(copies[0]?.to).toBeUndefined();
    expect(copies[0]?.options).toEqual({
      messageId: 'm1',
      headers: { app: 'x', [MQ_HEADERS.deliveries]: '1', [MQ_HEADERS.retryAt]: String(1_000_000 + 2000) },
    });
    await flush();
    expect(settles).toEqual([]);
    copies[0]?.resolve();
    await flush();
    expect(settles).toEqual(['ack']);
    expect(policy.moving).toBe(false);
  });

  it('a copy that fails is reported and the original handed back after the delay instead', async () => {
    const { host, copies, codes } = receiver(true);
    const policy = new FailurePolicy(optionsWith({ retryDelayMillis: 300 }), host);
    const { message, settles } = delivered();
    policy.failed(message, new Error('boom'), 'handler failed');
    copies[0]?.reject(new Error('channel closed'));
    await flush();
    expect(codes()).toEqual(['HANDLER_FAILED', 'BROKER']);
    await vi.advanceTimersByTimeAsync(300);
    expect(settles).toEqual(['nack']);
  });

  it('gives up at maxDeliveries without deadLetter: acks (drops) the message and reports DROPPED', async () => {
    const { host, reports, codes } = receiver();
    const policy = new FailurePolicy(optionsWith({ maxDeliveries: 3 }), host);
    // The third delivery: two before it.
    const { message, settles } = delivered({ redelivered: true, deliveryCount: 2 });
    policy.failed(message, new Error('still broken'), 'handler failed');
    await flush();
    expect(settles).toEqual(['ack']);
    expect(codes()).toEqual(['HANDLER_FAILED', 'DROPPED']);
    expect(reports[0]?.message).toContain('delivery 3 of 3: dropping it');
    expect(reports[1]?.message).toContain('Last failure: still broken');
  });

  it('gives up at maxDeliveries with deadLetter: a confirmed copy to it with the dead-letter headers, then the ack, then DEAD_LETTERED', async () => {
    const { host, copies, codes } = receiver();
    const policy = new FailurePolicy(optionsWith({ maxDeliveries: 2, deadLetter: 'jobs.dead' }), host);
    const { message, settles } = delivered({
      redelivered: true,
      headers: { [MQ_HEADERS.deliveries]: '1', [MQ_HEADERS.retryAt]: '5', app: 'x' },
    });
    policy.failed(message, new Error('bad\ninput'), 'handler failed');
    expect(copies.map((copy) => copy.to)).toEqual(['jobs.dead']);
    expect(copies[0]?.options.headers).toEqual({
      app: 'x',
      [MQ_HEADERS.deadLetterFrom]: 'jobs',
      [MQ_HEADERS.deadLetterDeliveries]: '2',
      [MQ_HEADERS.deadLetterError]: 'bad input',
      [MQ_HEADERS.deadLetterTime]: new Date(1_000_000).toISOString(),
    });
    expect(settles).toEqual([]);
    copies[0]?.resolve();
    await flush();
    expect(settles).toEqual(['ack']);
    expect(codes()).toEqual(['HANDLER_FAILED', 'DEAD_LETTERED']);
  });

  it('a dead letter whose copy fails is handed back after at least a second, to be tried again', async () => {
    const { host, copies, codes } = receiver();
    const policy = new FailurePolicy(
      optionsWith({ retryDelayMillis: 0, maxDeliveries: 1, deadLetter: 'd' }),
      host,
    );
    const { message, settles } = delivered();
    policy.failed(message, new Error('boom'), 'handler failed');
    copies[0]?.reject(new Error('no route'));
    await flush();
    expect(codes()).toEqual(['HANDLER_FAILED', 'BROKER']);
    await vi.advanceTimersByTimeAsync(999);
    expect(settles).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(settles).toEqual(['nack']);
  });

  it('admits nothing delivered more than maxDeliveries times: given up on before the handler runs', async () => {
    const { host, codes } = receiver();
    const policy = new FailurePolicy(optionsWith({ maxDeliveries: 2 }), host);
    const { message, settles } = delivered({ redelivered: true, deliveryCount: 2 });
    expect(policy.passes(message)).toBe(false);
    const run = vi.fn();
    policy.admit(message, run);
    await flush();
    expect(run).not.toHaveBeenCalled();
    expect(settles).toEqual(['ack']);
    expect(codes()).toEqual(['DROPPED']);
  });

  it('holds a retried copy until its time (at most its own delay) before the handler gets it', async () => {
    const { host } = receiver(true);
    const policy = new FailurePolicy(optionsWith({ retryDelayMillis: 1000 }), host);
    const early = delivered({ headers: { [MQ_HEADERS.retryAt]: String(1_000_000 + 400) } });
    const far = delivered({ headers: { [MQ_HEADERS.retryAt]: String(1_000_000 + 60_000) } });
    const runs: string[] = [];
    policy.admit(early.message, () => runs.push('early'));
    policy.admit(far.message, () => runs.push('far'));
    await vi.advanceTimersByTimeAsync(399);
    expect(runs).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toEqual(['early']);
    // Clocks differ: a copy is never held longer than this receiver's own retryDelayMillis.
    await vi.advanceTimersByTimeAsync(600);
    expect(runs).toEqual(['early', 'far']);
  });

  it('treats a message left unsettled for ackTimeoutMillis as failed; the handler own late ack then does nothing', async () => {
    const { host, reports } = receiver();
    const policy = new FailurePolicy(optionsWith({ ackTimeoutMillis: 200, retryDelayMillis: 100 }), host);
    const { message, settles } = delivered();
    expect(policy.passes(message)).toBe(false);
    policy.admit(message, () => {});
    await vi.advanceTimersByTimeAsync(199);
    expect(reports).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(reports[0]?.message).toMatch(
      /timed out: neither acked nor nacked within ackTimeoutMillis \(200 ms\); retrying in 100 ms/,
    );
    await message.ack();
    await vi.advanceTimersByTimeAsync(100);
    expect(settles).toEqual(['nack']);
  });

  it('a message acked in time clears its deadline', async () => {
    const { host, reports } = receiver();
    const policy = new FailurePolicy(optionsWith({ ackTimeoutMillis: 200 }), host);
    const { message, settles } = delivered();
    policy.admit(message, () => void message.ack());
    await vi.advanceTimersByTimeAsync(1000);
    expect(settles).toEqual(['ack']);
    expect(reports).toEqual([]);
  });

  it('with deadlines deferred (a messages() loop), the deadline starts when the loop takes the message, not on delivery', async () => {
    const { host, codes } = receiver();
    const policy = new FailurePolicy(optionsWith({ ackTimeoutMillis: 200 }), host);
    policy.deferAckDeadlines(true);
    const { message } = delivered();
    policy.admit(message, () => {});
    await vi.advanceTimersByTimeAsync(1000);
    expect(codes()).toEqual([]);
    policy.startAckDeadline(message);
    await vi.advanceTimersByTimeAsync(200);
    expect(codes()).toEqual(['HANDLER_FAILED']);
    // Undone: deliveries start their own deadline again.
    policy.deferAckDeadlines(false);
    const next = delivered();
    policy.admit(next.message, () => {});
    await vi.advanceTimersByTimeAsync(200);
    expect(codes()).toEqual(['HANDLER_FAILED', 'HANDLER_FAILED']);
  });

  it('stop() leaves waiting messages unacked and lets no timer fire; restart() makes it act again', async () => {
    const { host, reports } = receiver();
    const policy = new FailurePolicy(optionsWith({ retryDelayMillis: 100 }), host);
    const waiting = delivered();
    policy.failed(waiting.message, new Error('boom'), 'handler failed');
    policy.stop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(waiting.settles).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
    const whileClosing = delivered();
    policy.failed(whileClosing.message, new Error('late'), 'handler failed');
    expect(reports.at(-1)?.message).toContain('the receiver is closing: the message stays unacked');
    await vi.advanceTimersByTimeAsync(1000);
    expect(whileClosing.settles).toEqual([]);
    policy.restart();
    const after = delivered();
    policy.failed(after.message, new Error('boom'), 'handler failed');
    await vi.advanceTimersByTimeAsync(100);
    expect(after.settles).toEqual(['nack']);
  });

  it('takes a failed message over once: a second failure of the same delivery is only reported, and it is settled once', async () => {
    const { host, reports } = receiver();
    const policy = new FailurePolicy(optionsWith({ retryDelayMillis: 100 }), host);
    const { message, settles } = delivered();
    policy.failed(message, new Error('first'), 'handler failed');
    policy.failed(message, new Error('second'), 'handler failed');
    expect(reports[1]?.message).toContain('the message was settled or taken care of before');
    await message.nack();
    await vi.advanceTimersByTimeAsync(1000);
    expect(settles).toEqual(['nack']);
  });

  it('with retryDelayMillis false, leaves a failed message unacked and says so', async () => {
    const { host, reports } = receiver();
    const policy = new FailurePolicy(optionsWith({ retryDelayMillis: false }), host);
    const { message, settles } = delivered();
    policy.failed(message, new Error('boom'), 'handler failed');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(settles).toEqual([]);
    expect(reports[0]?.message).toContain('the message stays unacked (retryDelayMillis: false)');
    // Not taken over: the app may still settle it itself.
    await message.ack();
    expect(settles).toEqual(['ack']);
  });
});
