import { describe, expect, it } from 'vitest';
import { MqError, SETTLED } from '../src/spi/index.js';
import { InFlightSends } from '../src/spi/queue/in-flight.js';

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

/** A send whose backend settles it as `sending` does (`PendingSend.follow`), watched as sendMsg() watches it. */
function track(sends: InFlightSends, sending: Promise<void>): Promise<void> {
  const send = sends.begin();
  send.follow(sending);
  return sends.watch(send);
}

describe('InFlightSends', () => {
  it('settles a tracked send as the send settles', async () => {
    const sends = new InFlightSends(1000, timedOut);
    const ok = deferred();
    const bad = deferred();
    const tracked = [track(sends, ok.promise), track(sends, bad.promise)];
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
    const error = await track(sends, silent.promise).catch((e: unknown) => e);
    expect(MqError.hasCode(error, 'TIMEOUT')).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(sends.size).toBe(0);
    silent.resolve();
    await sends.allSettled();
  });

  it('allSettled() waits for every send, also ones that time out', async () => {
    const sends = new InFlightSends(40, timedOut);
    const answered = deferred();
    const silent = deferred();
    void track(sends, answered.promise).catch(() => {});
    void track(sends, silent.promise).catch(() => {});
    let drained = false;
    const waiting = sends.allSettled().then(() => {
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
    const tracked = track(sends, send.promise);
    expect(timers()).toBe(before);
    send.resolve();
    await tracked;
    expect(timers()).toBe(before);
  });

  it('a send the backend settles inside publish() costs no tracking: the shared SETTLED promise comes back', async () => {
    const sends = new InFlightSends(1000, timedOut);
    const ok = sends.begin();
    ok.resolve();
    expect(sends.watch(ok)).toBe(SETTLED);
    const bad = sends.begin();
    bad.reject(new MqError('REJECTED', 'refused'));
    await expect(sends.watch(bad)).rejects.toThrow('refused');
    expect(sends.size).toBe(0);
  });

  it('a send settled later counts until then; only its first settle counts', async () => {
    const sends = new InFlightSends(1000, timedOut);
    const send = sends.begin();
    const app = sends.watch(send);
    expect(sends.size).toBe(1);
    send.reject(new MqError('REJECTED', 'first'));
    send.resolve();
    send.reject(new MqError('BROKER', 'third'));
    await expect(app).rejects.toThrow('first');
    expect(sends.size).toBe(0);
    await sends.allSettled();
  });

  it('failAll() rejects every pending send with its error and leaves settled ones alone', async () => {
    const sends = new InFlightSends(60_000, timedOut);
    const first = sends.begin();
    const second = sends.begin();
    const third = sends.begin();
    const apps = [first, second, third].map((s) => sends.watch(s));
    second.resolve();
    sends.failAll(new MqError('CONNECTION_LOST', 'gone'));
    const results = await Promise.allSettled(apps);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'rejected']);
    expect(MqError.hasCode((results[0] as PromiseRejectedResult).reason, 'CONNECTION_LOST')).toBe(true);
    expect(sends.size).toBe(0);
    await sends.allSettled();
  });

  it('times out sends in order and keeps later ones, across many settled in between', async () => {
    const sends = new InFlightSends(40, timedOut);
    const early = sends.begin();
    const earlyApp = sends.watch(early).catch((e: unknown) => e);
    // Thousands settled meanwhile: the list compacts while the oldest is still pending.
    for (let i = 0; i < 3000; i += 1) {
      const send = sends.begin();
      void sends.watch(send);
      send.resolve();
    }
    expect(sends.size).toBe(1);
    expect(MqError.hasCode(await earlyApp, 'TIMEOUT')).toBe(true);
    expect(sends.size).toBe(0);
  });
});
