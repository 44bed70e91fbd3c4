/** A median over rounds and how far this machine's noise leaves it uncertain. */
export interface MedianEstimate {
  /** The median of the values. */
  median: number;
  /** The distribution-free confidence interval of the median (see {@link estimateMedian}). */
  ci: [number, number];
  /** The probability that `ci` holds the true median, from 0 to 1 (0.961 for 9 values, 0.9375 for 5). */
  confidence: number;
  /** The lowest and highest value. */
  spread: [number, number];
}

/** Where a ratio stands against its target, given its confidence interval. */
export type Verdict = 'met' | 'within-noise' | 'missed';

/** The confidence {@link estimateMedian} aims for; with few values it takes the widest interval there is. */
export const TARGET_CONFIDENCE = 0.95;

/** The finite values of `values`, ascending. */
function finiteSorted(values: number[]): number[] {
  return values.filter(Number.isFinite).sort((a, b) => a - b);
}

/** The median of values already sorted ascending (NaN when there are none). */
function medianOfSorted(sorted: number[]): number {
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The median of `values` (NaN when none is finite). */
export function median(values: number[]): number {
  return medianOfSorted(finiteSorted(values));
}

/** P(X ≤ k) for X ~ Binomial(n, 1/2): the chance that at most k of n values fall below the true median. */
function binomialHalfCdf(n: number, k: number): number {
  let term = 0.5 ** n;
  let sum = term;
  for (let i = 1; i <= k; i += 1) {
    term = (term * (n - i + 1)) / i;
    sum += term;
  }
  return sum;
}

/**
 * The median of `values` with its order-statistics confidence interval: the k-th smallest to the k-th largest
 * value, k as large as keeps the chance that the true median lies outside at most 1 − {@link TARGET_CONFIDENCE}.
 * It assumes nothing about the shape of the noise, only that rounds are independent.
 */
export function estimateMedian(values: number[]): MedianEstimate {
  const sorted = finiteSorted(values);
  const n = sorted.length;
  if (n === 0) {
    return {
      median: Number.NaN,
      ci: [Number.NaN, Number.NaN],
      confidence: 0,
      spread: [Number.NaN, Number.NaN],
    };
  }
  let k = 1;
  while (k < n / 2 && 1 - 2 * binomialHalfCdf(n, k) >= TARGET_CONFIDENCE) k += 1;
  return {
    median: medianOfSorted(sorted),
    ci: [sorted[k - 1]!, sorted[n - k]!],
    confidence: 1 - 2 * binomialHalfCdf(n, k - 1),
    spread: [sorted[0]!, sorted[n - 1]!],
  };
}

/**
 * `met` when the median is on the right side of `target`, `within-noise` when only the confidence interval
 * reaches it, `missed` when the whole interval is on the wrong side.
 */
export function verdict(estimate: MedianEstimate, target: number, higherIsBetter: boolean): Verdict {
  const ok = (value: number): boolean => (higherIsBetter ? value >= target : value <= target);
  if (ok(estimate.median)) return 'met';
  return ok(higherIsBetter ? estimate.ci[1] : estimate.ci[0]) ? 'within-noise' : 'missed';
}
