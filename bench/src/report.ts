import type { RunResult } from './recorder.js';

/** The summary of one scenario: medians over rounds for each client, and their ratios. */
export interface ScenarioSummary {
  scenario: string;
  raw: RunResult;
  mq: RunResult;
  /** mq msgs/s ÷ raw msgs/s (≥ 0.95 is the target). */
  throughputRatio: number;
  /** mq p99 ÷ raw p99 (≤ 1.1 is the target). */
  p99Ratio: number;
}

/** The median of each field over rounds; lost and duplicated are summed. */
export function medianResult(results: RunResult[]): RunResult {
  const median = (pick: (r: RunResult) => number): number => {
    const values = results.map(pick).sort((a, b) => a - b);
    return values[Math.floor(values.length / 2)] ?? Number.NaN;
  };
  return {
    msgsPerSec: median((r) => r.msgsPerSec),
    p50: median((r) => r.p50),
    p99: median((r) => r.p99),
    rssGrowthMiB: Math.max(...results.map((r) => r.rssGrowthMiB)),
    lost: results.reduce((sum, r) => sum + r.lost, 0),
    duplicated: results.reduce((sum, r) => sum + r.duplicated, 0),
  };
}

const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : '-');

/** The Markdown table printed at the end (and pasted into the README). */
export function table(rows: ScenarioSummary[]): string {
  const lines = [
    '| scenario | raw msgs/s | mq msgs/s | mq/raw | raw p50/p99 ms | mq p50/p99 ms | p99 mq/raw | RSS +MiB raw/mq | lost/dup raw | lost/dup mq |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.scenario} | ${fmt(r.raw.msgsPerSec)} | ${fmt(r.mq.msgsPerSec)} | ${fmt(r.throughputRatio, 2)} | ${fmt(r.raw.p50, 1)}/${fmt(r.raw.p99, 1)} | ${fmt(r.mq.p50, 1)}/${fmt(r.mq.p99, 1)} | ${fmt(r.p99Ratio, 2)} | ${fmt(r.raw.rssGrowthMiB)}/${fmt(r.mq.rssGrowthMiB)} | ${r.raw.lost}/${r.raw.duplicated} | ${r.mq.lost}/${r.mq.duplicated} |`,
    );
  }
  return lines.join('\n');
}
