import { describe, expect, it } from 'vitest';
import { Backoff } from '../src/spi/index.js';

const delays = (backoff: Backoff, count: number): number[] =>
  Array.from({ length: count }, () => backoff.next());

describe('Backoff', () => {
  it('starts at reconnectMillis, doubles, and stops at reconnectMaxMillis', () => {
    const backoff = new Backoff({ reconnectMillis: 100, reconnectMaxMillis: 1000 }, () => 0);
    expect(delays(backoff, 7)).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('draws each later delay from the top fifth of its value, never below reconnectMillis', () => {
    const backoff = new Backoff({ reconnectMillis: 100, reconnectMaxMillis: 1000 }, () => 0.999_999);
    // The first delay is never jittered: a lost link comes back after exactly reconnectMillis.
    expect(delays(backoff, 6)).toEqual([100, 160, 320, 640, 800, 800]);
  });

  it('starts over after reset()', () => {
    const backoff = new Backoff({ reconnectMillis: 50, reconnectMaxMillis: 30_000 }, () => 0);
    delays(backoff, 5);
    backoff.reset();
    expect(delays(backoff, 2)).toEqual([50, 100]);
  });

  it('is a fixed interval when reconnectMaxMillis equals reconnectMillis', () => {
    const backoff = new Backoff({ reconnectMillis: 250, reconnectMaxMillis: 250 });
    expect(delays(backoff, 5)).toEqual([250, 250, 250, 250, 250]);
  });

  it('never exceeds the largest timer, however many failures', () => {
    const backoff = new Backoff({ reconnectMillis: 1000, reconnectMaxMillis: 2_147_483_647 }, () => 0);
    const all = delays(backoff, 100);
    expect(Math.max(...all)).toBe(2_147_483_647);
    expect(all.every(Number.isSafeInteger)).toBe(true);
  });
});
