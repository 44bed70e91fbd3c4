import type { RunResult } from './recorder.js';

/** The summary of one scenario: medians over rounds for each client, and their ratios. */
export interface ScenarioSummary {
  scenario: string;
  /** True when the scenario promises delivery (reliable modes): a loss there fails the run. */
  reliable: boolean;
  raw: RunResult;
  mq: RunResult;
  /**
   * mq msgs/s ÷ raw msgs/s (≥ 0.95 is the target): the median over rounds of each round's ratio, raw and mq of
   * a round running back to back, so that load drifting on the machine cancels out.
   */
  throughputRatio: number;
  /** Lowest and highest throughput ratio of a single round (raw and mq of the same round, run back to back). */
  ratioSpread: [number, number];
  /** Median mq p99 ÷ median raw p99 (≤ 1.1 is the target). */
  p99Ratio: number;
}

const median = (values: number[]): number => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** The median of each field over rounds; RSS growth is the maximum; lost, duplicated and failures are summed. */
export function medianResult(results: RunResult[]): RunResult {
  return {
    msgsPerSec: median(results.map((r) => r.msgsPerSec)),
    sendsPerSec: median(results.map((r) => r.sendsPerSec)),
    p50: median(results.map((r) => r.p50)),
    p99: median(results.map((r) => r.p99)),
    rssGrowthMiB: Math.max(...results.map((r) => r.rssGrowthMiB)),
    lost: results.reduce((sum, r) => sum + r.lost, 0),
    duplicated: results.reduce((sum, r) => sum + r.duplicated, 0),
    sendFailures: results.reduce((sum, r) => sum + r.sendFailures, 0),
    cpuMicrosPerMsg: median(results.map((r) => r.cpuMicrosPerMsg)),
  };
}

/** The per-round ratios mq/raw (round i of each client): their median, lowest and highest. */
export function pairedRatios(
  raw: RunResult[],
  mq: RunResult[],
): { median: number; spread: [number, number] } {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(raw.length, mq.length); i += 1) {
    ratios.push(mq[i]!.msgsPerSec / raw[i]!.msgsPerSec);
  }
  const finite = ratios.filter(Number.isFinite);
  if (finite.length === 0) return { median: Number.NaN, spread: [Number.NaN, Number.NaN] };
  return { median: median(finite), spread: [Math.min(...finite), Math.max(...finite)] };
}

const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : '-');

/** The Markdown table printed at the end (and pasted into the README). */
export function table(rows: ScenarioSummary[]): string {
  const lines = [
    '| scenario | raw msgs/s | mq msgs/s | mq/raw | rounds min–max | sends/s raw/mq | raw p50/p99 ms | mq p50/p99 ms | p99 mq/raw | CPU µs/msg raw/mq | RSS +MiB raw/mq | lost/dup raw | lost/dup mq |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.scenario} | ${fmt(r.raw.msgsPerSec)} | ${fmt(r.mq.msgsPerSec)} | ${fmt(r.throughputRatio, 2)} | ${fmt(r.ratioSpread[0], 2)}–${fmt(r.ratioSpread[1], 2)} | ${fmt(r.raw.sendsPerSec)}/${fmt(r.mq.sendsPerSec)} | ${fmt(r.raw.p50, 1)}/${fmt(r.raw.p99, 1)} | ${fmt(r.mq.p50, 1)}/${fmt(r.mq.p99, 1)} | ${fmt(r.p99Ratio, 2)} | ${fmt(r.raw.cpuMicrosPerMsg)}/${fmt(r.mq.cpuMicrosPerMsg)} | ${fmt(r.raw.rssGrowthMiB)}/${fmt(r.mq.rssGrowthMiB)} | ${r.raw.lost}/${r.raw.duplicated} | ${r.mq.lost}/${r.mq.duplicated} |`,
    );
  }
  return lines.join('\n');
}
