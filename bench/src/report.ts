import type { RunResult } from './recorder.js';
import { estimateMedian, type MedianEstimate, median, type Verdict, verdict } from './stats.js';

/** The throughput target: mq msgs/s ÷ raw msgs/s of the same round, at least. */
export const THROUGHPUT_TARGET = 0.95;
/** The latency target: mq p99 ÷ raw p99 of the same round, at most. */
export const P99_TARGET = 1.1;

/** The summary of one scenario: medians over rounds for each client, and their ratios. */
export interface ScenarioSummary {
  scenario: string;
  /** The backend and delivery guarantee, e.g. `amqp reliable`: rows of one mode are pooled by {@link summarizeModes}. */
  mode: string;
  /** Messages each round sent (the scenario's count, raised so that a round lasts about a second). */
  count: number;
  /** True when the scenario promises delivery (reliable modes): a loss there fails the run. */
  reliable: boolean;
  raw: RunResult;
  mq: RunResult;
  /**
   * mq msgs/s ÷ raw msgs/s: the median over rounds of each round's ratio (raw and mq of a round run back to
   * back, so that load drifting on the machine cancels out), with its confidence interval.
   */
  throughput: MedianEstimate;
  /** mq p99 ÷ raw p99, paired by round like {@link ScenarioSummary.throughput}. */
  p99: MedianEstimate;
  /** {@link ScenarioSummary.throughput} against {@link THROUGHPUT_TARGET}. */
  throughputVerdict: Verdict;
  /** {@link ScenarioSummary.p99} against {@link P99_TARGET}. */
  p99Verdict: Verdict;
  /** Every round's result, in the order they ran (round i of raw and of mq ran back to back). */
  rounds: { raw: RunResult[]; mq: RunResult[] };
  /** mq against each other client of the same protocol that ran in the same rounds (none on MQTT). */
  peers: PeerSummary[];
}

/**
 * mq against another client of the same protocol (amqp-client.js, amqp-connection-manager), from the same
 * alternating rounds. No target and no verdict: these columns show where mq stands among the Node clients an
 * app could pick, not a cost mq adds.
 */
export interface PeerSummary {
  /** The peer's column, e.g. `amqp-client` (see {@link clientLabel}). */
  name: string;
  /** The peer's medians over rounds (RSS growth the worst round; lost, duplicated and failures summed). */
  result: RunResult;
  /** mq msgs/s ÷ the peer's msgs/s, per round (they ran in the same round), with its interval. */
  throughput: MedianEstimate;
  /** mq p99 ÷ the peer's p99, paired by round. */
  p99: MedianEstimate;
  /** mq CPU per message ÷ the peer's, paired by round. */
  cpu: MedianEstimate;
  /** The peer's rounds, in order (round i ran in the same round as mq's round i). */
  rounds: RunResult[];
}

/** What a column is called in tables: the raw client by its library, the peers by theirs. */
export function clientLabel(name: string, family: string): string {
  if (name === 'raw') return family === 'mqtt' ? 'mqtt.js' : 'amqplib';
  if (name === 'named') return 'mq named';
  return name === 'amqp-client' ? 'amqp-client.js' : name;
}

/** What a client that did not run (`--clients`) shows. */
const NOT_RUN: RunResult = {
  msgsPerSec: Number.NaN,
  seconds: Number.NaN,
  sendsPerSec: Number.NaN,
  p50: Number.NaN,
  p99: Number.NaN,
  rssGrowthMiB: 0,
  lost: 0,
  duplicated: 0,
  sendFailures: 0,
  cpuMicrosPerMsg: Number.NaN,
};

/** The median of each field over rounds; RSS growth is the maximum; lost, duplicated and failures are summed. */
export function medianResult(results: RunResult[]): RunResult {
  if (results.length === 0) return { ...NOT_RUN };
  return {
    msgsPerSec: median(results.map((r) => r.msgsPerSec)),
    seconds: median(results.map((r) => r.seconds)),
    sendsPerSec: median(results.map((r) => r.sendsPerSec)),
    p50: median(results.map((r) => r.p50)),
    p99: median(results.map((r) => r.p99)),
    rssGrowthMiB: Math.max(...results.map((r) => r.rssGrowthMiB)),
    lost: results.reduce((sum, r) => sum + r.lost, 0),
    duplicated: results.reduce((sum, r) => sum + r.duplicated, 0),
    sendFailures: results.reduce((sum, r) => sum + r.sendFailures, 0),
    cpuMicrosPerMsg: median(results.map((r) => r.cpuMicrosPerMsg)),
    ...(results[0]?.io
      ? {
          io: {
            senderWrites: median(results.map((r) => r.io?.senderWrites ?? Number.NaN)),
            receiverWrites: median(results.map((r) => r.io?.receiverWrites ?? Number.NaN)),
            reads: median(results.map((r) => r.io?.reads ?? Number.NaN)),
          },
        }
      : {}),
  };
}

/** A field whose mq/raw ratio is reported. */
type RatioField = 'msgsPerSec' | 'p99' | 'cpuMicrosPerMsg';

/** The per-round ratios mq/raw of one field: round i of mq over round i of raw (they ran back to back). */
function roundRatios(raw: RunResult[], mq: RunResult[], field: RatioField): number[] {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(raw.length, mq.length); i += 1) ratios.push(mq[i]![field] / raw[i]![field]);
  return ratios;
}

/** The per-round ratios mq/raw of one field, as a median with its interval. */
export function pairedRatio(raw: RunResult[], mq: RunResult[], field: RatioField): MedianEstimate {
  return estimateMedian(roundRatios(raw, mq, field));
}

/** What a scenario is, for its summary: its label, its mode, its round size and whether it promises delivery. */
export type ScenarioInfo = Pick<ScenarioSummary, 'scenario' | 'mode' | 'count' | 'reliable'>;

/** The summary of one scenario's rounds (an empty list stands for a client that did not run). */
export function summarize(
  { scenario, mode, count, reliable }: ScenarioInfo,
  raw: RunResult[],
  mq: RunResult[],
  peers: Record<string, RunResult[]> = {},
): ScenarioSummary {
  const throughput = pairedRatio(raw, mq, 'msgsPerSec');
  const p99 = pairedRatio(raw, mq, 'p99');
  return {
    scenario,
    mode,
    count,
    reliable,
    raw: medianResult(raw),
    mq: medianResult(mq),
    throughput,
    p99,
    throughputVerdict: verdict(throughput, THROUGHPUT_TARGET, true),
    p99Verdict: verdict(p99, P99_TARGET, false),
    rounds: { raw, mq },
    peers: Object.entries(peers)
      .filter(([, rounds]) => rounds.length > 0)
      .map(([name, rounds]) => ({
        name,
        result: medianResult(rounds),
        throughput: pairedRatio(rounds, mq, 'msgsPerSec'),
        p99: pairedRatio(rounds, mq, 'p99'),
        cpu: pairedRatio(rounds, mq, 'cpuMicrosPerMsg'),
        rounds,
      })),
  };
}

const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : '-');

const MARK: Record<Verdict, string> = { met: '✓', 'within-noise': '≈', missed: '✗' };

/** A ratio with its confidence interval, e.g. `0.97 (0.91–1.02)`. */
const interval = (estimate: MedianEstimate): string =>
  `${fmt(estimate.median, 2)} (${fmt(estimate.ci[0], 2)}–${fmt(estimate.ci[1], 2)})`;

/** A ratio with its confidence interval and where it stands, e.g. `0.97 (0.91–1.02) ✓`. */
const ratio = (estimate: MedianEstimate, mark: Verdict): string => `${interval(estimate)} ${MARK[mark]}`;

/** The Markdown table printed at the end (and pasted into the README). */
export function table(rows: ScenarioSummary[]): string {
  const lines = [
    '| scenario | raw msgs/s | mq msgs/s | mq/raw (CI) | sends/s raw/mq | raw p50/p99 ms | mq p50/p99 ms | p99 mq/raw (CI) | CPU µs/msg raw/mq | RSS +MiB raw/mq | lost/dup raw | lost/dup mq |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.scenario} | ${fmt(r.raw.msgsPerSec)} | ${fmt(r.mq.msgsPerSec)} | ${ratio(r.throughput, r.throughputVerdict)} | ${fmt(r.raw.sendsPerSec)}/${fmt(r.mq.sendsPerSec)} | ${fmt(r.raw.p50, 1)}/${fmt(r.raw.p99, 1)} | ${fmt(r.mq.p50, 1)}/${fmt(r.mq.p99, 1)} | ${ratio(r.p99, r.p99Verdict)} | ${fmt(r.raw.cpuMicrosPerMsg)}/${fmt(r.mq.cpuMicrosPerMsg)} | ${fmt(r.raw.rssGrowthMiB)}/${fmt(r.mq.rssGrowthMiB)} | ${r.raw.lost}/${r.raw.duplicated} | ${r.mq.lost}/${r.mq.duplicated} |`,
    );
  }
  return lines.join('\n');
}

/** How many rows and modes met each target, were within noise of it, or missed it; and at what confidence. */
export function tally(rows: ScenarioSummary[], modes: ModeSummary[]): string {
  const count = <T>(items: T[], pick: (item: T) => Verdict): string => {
    const n = (v: Verdict): number => items.filter((item) => pick(item) === v).length;
    return `${n('met')} met ✓, ${n('within-noise')} within noise ≈, ${n('missed')} missed ✗`;
  };
  const percent = (items: Array<{ throughput: MedianEstimate }>): string =>
    items.length === 0
      ? '-'
      : `${(Math.min(...items.map((i) => i.throughput.confidence)) * 100).toFixed(1)} %`;
  return [
    `throughput mq/raw ≥ ${THROUGHPUT_TARGET}: scenarios ${count(rows, (r) => r.throughputVerdict)}; modes ${count(modes, (m) => m.throughputVerdict)}`,
    `p99 mq/raw ≤ ${P99_TARGET}: scenarios ${count(rows, (r) => r.p99Verdict)}; modes ${count(modes, (m) => m.p99Verdict)}`,
    `(median of the per-round ratios; CI: its order-statistics confidence interval, ${percent(rows)} for a scenario, ${percent(modes)} or more for a mode; ≈: the median misses, the CI reaches the target)`,
  ].join('\n');
}

/** One mode (backend and delivery guarantee) over all its scenarios, every round's ratio pooled. */
export interface ModeSummary {
  /** E.g. `mqtt reliable`. */
  mode: string;
  /** How many scenarios (rows) it pools. */
  scenarios: number;
  /** How many per-round throughput ratios it pools (scenarios × rounds, less rounds with no result). */
  ratios: number;
  /** mq msgs/s ÷ raw msgs/s over every round of every scenario of the mode. */
  throughput: MedianEstimate;
  /** mq p99 ÷ raw p99, pooled the same way. */
  p99: MedianEstimate;
  /** mq CPU per message ÷ raw CPU per message, pooled the same way: the least noisy measure of mq's own cost. */
  cpu: MedianEstimate;
  /** {@link ModeSummary.throughput} against {@link THROUGHPUT_TARGET}. */
  throughputVerdict: Verdict;
  /** {@link ModeSummary.p99} against {@link P99_TARGET}. */
  p99Verdict: Verdict;
}

/**
 * One summary per mode, in order of first appearance: the per-round ratios of all its scenarios pooled (12
 * scenarios × 9 rounds = 108 in a full run), as the targets are set per mode; its interval is far narrower than
 * one row's.
 */
export function summarizeModes(rows: ScenarioSummary[]): ModeSummary[] {
  const modes = [...new Set(rows.map((r) => r.mode))];
  return modes.map((mode) => {
    const mine = rows.filter((r) => r.mode === mode);
    const ratiosOf = (field: RatioField): number[] =>
      mine.flatMap((r) => roundRatios(r.rounds.raw, r.rounds.mq, field)).filter(Number.isFinite);
    const throughputRatios = ratiosOf('msgsPerSec');
    const throughput = estimateMedian(throughputRatios);
    const p99 = estimateMedian(ratiosOf('p99'));
    return {
      mode,
      scenarios: mine.length,
      ratios: throughputRatios.length,
      throughput,
      p99,
      cpu: estimateMedian(ratiosOf('cpuMicrosPerMsg')),
      throughputVerdict: verdict(throughput, THROUGHPUT_TARGET, true),
      p99Verdict: verdict(p99, P99_TARGET, false),
    };
  });
}

/** The per-mode table printed after the per-scenario one. */
export function modeTable(modes: ModeSummary[]): string {
  const lines = [
    '| mode | scenarios | ratios pooled | mq/raw (CI) | p99 mq/raw (CI) | CPU per msg mq/raw (CI) |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const m of modes) {
    lines.push(
      `| ${m.mode} | ${m.scenarios} | ${m.ratios} | ${ratio(m.throughput, m.throughputVerdict)} | ${ratio(m.p99, m.p99Verdict)} | ${interval(m.cpu)} |`,
    );
  }
  return lines.join('\n');
}

/** The names of the peers that ran in `rows`, in order of first appearance. */
function peerNames(rows: ScenarioSummary[]): string[] {
  return [...new Set(rows.flatMap((r) => r.peers.map((p) => p.name)))];
}

/**
 * The table of mq against the peers, for the rows that had any: each peer's msgs/s, mq ÷ peer with its interval
 * (throughput and p99), CPU per message peer/mq and the peer's losses.
 */
export function peerTable(rows: ScenarioSummary[]): string {
  const withPeers = rows.filter((r) => r.peers.length > 0);
  const names = peerNames(withPeers);
  if (names.length === 0) return '';
  const family = withPeers[0]?.mode.split(' ')[0] ?? '';
  const head = names.map((name) => clientLabel(name, family));
  const lines = [
    `| scenario | ${head.map((p) => `${p} msgs/s | mq/${p} (CI) | p99 mq/${p} (CI) | CPU µs/msg ${p}/mq | lost/dup ${p}`).join(' | ')} |`,
    `|---|${head.map(() => '---:|---:|---:|---:|---:|').join('')}`,
  ];
  for (const r of withPeers) {
    const cells = names.map((name) => {
      const p = r.peers.find((peer) => peer.name === name);
      if (!p) return '- | - | - | - | -';
      return `${fmt(p.result.msgsPerSec)} | ${interval(p.throughput)} | ${interval(p.p99)} | ${fmt(p.result.cpuMicrosPerMsg)}/${fmt(r.mq.cpuMicrosPerMsg)} | ${p.result.lost}/${p.result.duplicated}`;
    });
    lines.push(`| ${r.scenario} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** One mode against one peer: every round's ratio of all the mode's rows pooled, as {@link summarizeModes} does. */
export interface PeerModeSummary {
  /** E.g. `amqp reliable`. */
  mode: string;
  /** The peer's column. */
  peer: string;
  /** How many per-round throughput ratios it pools. */
  ratios: number;
  /** mq msgs/s ÷ the peer's, pooled. */
  throughput: MedianEstimate;
  /** mq p99 ÷ the peer's, pooled. */
  p99: MedianEstimate;
  /** mq CPU per message ÷ the peer's, pooled. */
  cpu: MedianEstimate;
}

/** For each mode and each peer that ran in it, the pooled ratios of mq to that peer. */
export function summarizePeerModes(rows: ScenarioSummary[]): PeerModeSummary[] {
  const modes = [...new Set(rows.map((r) => r.mode))];
  return modes.flatMap((mode) => {
    const mine = rows.filter((r) => r.mode === mode);
    return peerNames(mine).map((peer) => {
      const ratiosOf = (field: RatioField): number[] =>
        mine
          .flatMap((r) => {
            const p = r.peers.find((candidate) => candidate.name === peer);
            return p ? roundRatios(p.rounds, r.rounds.mq, field) : [];
          })
          .filter(Number.isFinite);
      const throughput = ratiosOf('msgsPerSec');
      return {
        mode,
        peer,
        ratios: throughput.length,
        throughput: estimateMedian(throughput),
        p99: estimateMedian(ratiosOf('p99')),
        cpu: estimateMedian(ratiosOf('cpuMicrosPerMsg')),
      };
    });
  });
}

/** The per-mode table of mq against each peer. */
export function peerModeTable(modes: PeerModeSummary[]): string {
  if (modes.length === 0) return '';
  const lines = [
    '| mode | mq against | ratios pooled | mq/peer (CI) | p99 mq/peer (CI) | CPU per msg mq/peer (CI) |',
    '|---|---|---:|---:|---:|---:|',
  ];
  for (const m of modes) {
    lines.push(
      `| ${m.mode} | ${clientLabel(m.peer, m.mode.split(' ')[0] ?? '')} | ${m.ratios} | ${interval(m.throughput)} | ${interval(m.p99)} | ${interval(m.cpu)} |`,
    );
  }
  return lines.join('\n');
}
