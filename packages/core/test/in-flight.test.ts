import { describe, expect, it } from 'vitest';
import { InFlightSends } from '../src/in-flight.js';
import { MqError } from '../src/index.js';

const timedOut = (): MqError => new MqError('TIMEOUT', 'too slow');

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('InFlightSends', () => {
  it('settles a tracked send as the send settles', async () => {
    const sends = new InFlightSends(1000, timedOut);
    const ok = deferred();
    const bad = deferred();
    const tracked = [sends.track(ok.promise), sends.track(bad.promise)];
    expect(sends.size).toBe(2);
    ok.resolve();
    bad.reject(new Error('nack'));
    const [first, second] = await Promise.allSettled(tracked);
    expect(first?.status).toBe('fulfilled');
    expect(second?.status === 'rejected' && (second.reason as Error).message).toBe('nack');
    expect(sends.size).toBe(0);
  });

  it('rejects a send the broker never answers with TIMEOUT at the deadline, and a late answer changes nothing', async () => {
    const sends = new InFlightSends(30, timedOut);
    const silent = deferred();
    const started = Date.now();
    const error = await sends.track(silent.promise).catch((e: unknown) => e);
    expect(MqError.hasCode(error, 'TIMEOUT')).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(sends.size).toBe(0);
    silent.resolve();
    await sends.drained();
  });

  it('drained() waits for every send, also ones that time out', async () => {
    const sends = new InFlightSends(40, timedOut);
    const answered = deferred();
    const silent = deferred();
    void sends.track(answered.promise).catch(() => {});
    void sends.track(silent.promise).catch(() => {});
    let drained = false;
    const waiting = sends.drained().then(() => {
      drained = true;
    });
    answered.resolve();
    await answered.promise;
    expect(drained).toBe(false);
    await waiting;
    expect(sends.size).toBe(0);
  });

  it('its deadline timer never keeps the process alive', async () => {
    const sends = new InFlightSends(60_000, timedOut);
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const send = deferred();
    const tracked = sends.track(send.promise);
    expect(timers()).toBe(before);
    send.resolve();
    await tracked;
    expect(timers()).toBe(before);
  });
});
