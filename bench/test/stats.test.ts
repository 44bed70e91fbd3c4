import { describe, expect, it } from 'vitest';
import { estimateMedian, verdict } from '../src/stats.js';

describe('estimateMedian', () => {
  it('takes the 2nd smallest to the 2nd largest of 9 rounds, at 96.1 % confidence', () => {
    const estimate = estimateMedian([9, 1, 8, 2, 7, 3, 6, 4, 5]);
    expect(estimate.median).toBe(5);
    expect(estimate.ci).toEqual([2, 8]);
    expect(estimate.confidence).toBeCloseTo(1 - 20 / 512, 6);
    expect(estimate.spread).toEqual([1, 9]);
  });

  it('can only reach 93.75 % with 5 rounds, with the whole range', () => {
    const estimate = estimateMedian([1.02, 0.9, 0.97, 1.1, 0.95]);
    expect(estimate.median).toBe(0.97);
    expect(estimate.ci).toEqual([0.9, 1.1]);
    expect(estimate.confidence).toBeCloseTo(1 - 2 / 32, 6);
  });

  it('narrows as rounds are added: 20 rounds give the 6th to the 15th value (95.9 %)', () => {
    const estimate = estimateMedian(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(estimate.median).toBe(10.5);
    expect(estimate.ci).toEqual([6, 15]);
    expect(estimate.confidence).toBeGreaterThanOrEqual(0.95);
    expect(estimate.confidence).toBeCloseTo(0.9586, 3);
  });

  it('ignores values that are not finite (a round with no delivery divides by zero)', () => {
    const estimate = estimateMedian([Number.NaN, 1, Number.POSITIVE_INFINITY, 3, 2]);
    expect(estimate.median).toBe(2);
    expect(estimate.ci).toEqual([1, 3]);
  });

  it('has no estimate without values', () => {
    const estimate = estimateMedian([]);
    expect(estimate.median).toBeNaN();
    expect(estimate.confidence).toBe(0);
  });
});

describe('verdict', () => {
  const of = (median: number, ci: [number, number]) => ({ median, ci, confidence: 0.96, spread: ci });

  it('a throughput ratio is met at or above the target, within noise when only the CI reaches it', () => {
    expect(verdict(of(0.95, [0.9, 1]), 0.95, true)).toBe('met');
    expect(verdict(of(0.93, [0.88, 0.95]), 0.95, true)).toBe('within-noise');
    expect(verdict(of(0.9, [0.85, 0.94]), 0.95, true)).toBe('missed');
  });

  it('a latency ratio is met at or below the target', () => {
    expect(verdict(of(1.1, [1, 1.3]), 1.1, false)).toBe('met');
    expect(verdict(of(1.2, [1.05, 1.4]), 1.1, false)).toBe('within-noise');
    expect(verdict(of(1.3, [1.15, 1.5]), 1.1, false)).toBe('missed');
  });
});
