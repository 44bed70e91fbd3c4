import { describe, expect, it } from 'vitest';
import type { RunResult } from '../src/recorder.js';
import {
  modeTable,
  peerModeTable,
  peerTable,
  summarize,
  summarizeModes,
  summarizePeerModes,
  tally,
} from '../src/report.js';

/** A round with the given rate, p99 and CPU per message; nothing lost. */
function round(msgsPerSec: number, p99 = 1, cpuMicrosPerMsg = 10): RunResult {
  return {
    msgsPerSec,
    seconds: 1,
    sendsPerSec: msgsPerSec,
    p50: p99 / 2,
    p99,
    rssGrowthMiB: 0,
    lost: 0,
    duplicated: 0,
    sendFailures: 0,
    cpuMicrosPerMsg,
  };
}

/**
 * A scenario whose mq rounds run at `ratios` × the raw rate (1000 msgs/s), with `10 / ratio` µs of CPU per
 * message against raw's 10, and a p99 of `p99Ratio` × raw's 1 ms.
 */
function scenario(name: string, mode: string, ratios: number[], p99Ratio = 1) {
  return summarize(
    { scenario: name, mode, count: 1000, reliable: true },
    ratios.map(() => round(1000)),
    ratios.map((r) => round(1000 * r, p99Ratio, 10 / r)),
  );
}

describe('summarizeModes', () => {
  it('pools every round of every scenario of a mode, and keeps modes apart', () => {
    const rows = [
      scenario('a1', 'amqp reliable', [0.9, 0.92, 0.94]),
      scenario('a2', 'amqp reliable', [0.96, 0.98, 1.0]),
      scenario('m1', 'mqtt reliable', [1.1, 1.2, 1.3]),
    ];
    const [amqp, mqtt] = summarizeModes(rows);
    expect(amqp).toMatchObject({ mode: 'amqp reliable', scenarios: 2, ratios: 6 });
    // Six ratios: the median is between the 3rd and 4th, the interval the whole range (too few for more).
    expect(amqp?.throughput.median).toBeCloseTo(0.95, 6);
    expect(amqp?.throughput.ci).toEqual([0.9, 1.0]);
    expect(amqp?.throughputVerdict).toBe('met');
    expect(amqp?.cpu.median).toBeCloseTo(1 / 0.95, 1);
    expect(mqtt).toMatchObject({ mode: 'mqtt reliable', scenarios: 1, ratios: 3 });
    expect(mqtt?.throughput.median).toBeCloseTo(1.2, 6);
  });

  it('narrows the interval with the pooled count: 12 scenarios × 9 rounds miss 0.95 when all sit at 0.93-0.94', () => {
    const rows = Array.from({ length: 12 }, (_, i) =>
      scenario(`s${i}`, 'mqtt best-effort', [0.93, 0.935, 0.94, 0.93, 0.94, 0.935, 0.93, 0.95, 0.96]),
    );
    const [mode] = summarizeModes(rows);
    expect(mode?.ratios).toBe(108);
    expect(mode?.throughput.confidence).toBeGreaterThanOrEqual(0.95);
    // Every single row reaches 0.95 within its own interval (the 2nd to the 8th of its 9 values)...
    expect(rows[0]?.throughputVerdict).toBe('within-noise');
    // ...the pooled mode does not: with 24 of 108 ratios at 0.95 or more, its interval ends at 0.94.
    expect(mode?.throughputVerdict).toBe('missed');
  });

  it('pools p99 ratios on their own, against the p99 target (at most 1.1)', () => {
    const rows = [
      scenario('a1', 'amqp reliable', [1, 1, 1], 1.2),
      scenario('a2', 'amqp reliable', [1, 1, 1], 1.3),
      scenario('m1', 'mqtt reliable', [1, 1, 1], 0.9),
    ];
    const [amqp, mqtt] = summarizeModes(rows);
    expect(amqp?.p99.median).toBeCloseTo(1.25, 6);
    expect(amqp?.p99Verdict).toBe('missed');
    expect(amqp?.throughputVerdict).toBe('met');
    expect(mqtt?.p99.median).toBeCloseTo(0.9, 6);
    expect(mqtt?.p99Verdict).toBe('met');
    expect(tally(rows, [amqp!, mqtt!])).toContain(
      'p99 mq/raw ≤ 1.1: scenarios 1 met ✓, 0 within noise ≈, 2 missed ✗; modes 1 met ✓, 0 within noise ≈, 1 missed ✗',
    );
  });

  it('leaves out rounds whose ratio is not finite, and pools nothing for a client that did not run', () => {
    const stalled = { ...round(0), p99: Number.NaN };
    const row = summarize(
      { scenario: 'x', mode: 'amqp best-effort', count: 10, reliable: false },
      [round(1000), stalled, round(1000)],
      [round(990), round(990), round(980)],
    );
    const [mode] = summarizeModes([row]);
    expect(mode?.ratios).toBe(2);
    expect(mode?.throughput.median).toBeCloseTo(0.985, 6);
    const mqOnly = summarize(
      { scenario: 'y', mode: 'mqtt reliable', count: 10, reliable: true },
      [],
      [round(1)],
    );
    expect(summarizeModes([mqOnly])[0]?.ratios).toBe(0);
  });

  it('prints one line per mode and counts modes in the tally', () => {
    const rows = [
      scenario('a1', 'amqp reliable', [0.9, 0.92, 0.94]),
      scenario('m1', 'mqtt reliable', [1, 1, 1]),
    ];
    const modes = summarizeModes(rows);
    const printed = modeTable(modes);
    expect(printed.split('\n')).toHaveLength(4);
    expect(printed).toContain('| amqp reliable | 1 | 3 | 0.92 (0.90–0.94) ✗ |');
    expect(tally(rows, modes)).toContain('modes 1 met ✓, 0 within noise ≈, 1 missed ✗');
  });
});

describe('mq against the peers (the other AMQP clients of the same rounds)', () => {
  /** A row where mq runs at 1000 msgs/s and each peer at the given rates, round by round. */
  function withPeers(name: string, mode: string, peers: Record<string, number[]>) {
    const rounds = Object.values(peers)[0]?.length ?? 0;
    return summarize(
      { scenario: name, mode, count: 1000, reliable: true },
      Array.from({ length: rounds }, () => round(1000)),
      Array.from({ length: rounds }, () => round(1000, 2, 10)),
      Object.fromEntries(
        Object.entries(peers).map(([peer, rates]) => [peer, rates.map((rate) => round(rate, 1, 20))]),
      ),
    );
  }

  it('pairs each peer with mq round by round, and leaves out a peer that did not run', () => {
    const row = withPeers('a', 'amqp reliable', { 'amqp-client': [2000, 1000, 500], acm: [] });
    expect(row.peers.map((p) => p.name)).toEqual(['amqp-client']);
    const [peer] = row.peers;
    // mq ÷ peer per round: 0.5, 1, 2.
    expect(peer?.throughput.median).toBeCloseTo(1, 6);
    expect(peer?.throughput.ci).toEqual([0.5, 2]);
    expect(peer?.p99.median).toBeCloseTo(2, 6);
    expect(peer?.cpu.median).toBeCloseTo(0.5, 6);
    expect(peer?.result.msgsPerSec).toBe(1000);
    // The raw column is untouched by the peers.
    expect(row.throughput.median).toBeCloseTo(1, 6);
  });

  it('prints one row per scenario that had peers, naming amqp-client.js by its library', () => {
    const rows = [
      withPeers('a', 'amqp reliable', { 'amqp-client': [500, 500, 500], acm: [1000, 1000, 1000] }),
      withPeers('m', 'mqtt reliable', {}),
    ];
    const printed = peerTable(rows).split('\n');
    expect(printed).toHaveLength(3);
    expect(printed[0]).toContain('| amqp-client.js msgs/s | mq/amqp-client.js (CI) |');
    expect(printed[0]).toContain('| acm msgs/s | mq/acm (CI) |');
    expect(printed[2]).toBe(
      '| a | 500 | 2.00 (2.00–2.00) | 2.00 (2.00–2.00) | 20/10 | 0/0 | 1000 | 1.00 (1.00–1.00) | 2.00 (2.00–2.00) | 20/10 | 0/0 |',
    );
    expect(peerTable([withPeers('m', 'mqtt reliable', {})])).toBe('');
  });

  it('pools every round of a mode per peer', () => {
    const rows = [
      withPeers('a1', 'amqp reliable', { 'amqp-client': [800, 1000, 1250], acm: [500, 500, 500] }),
      withPeers('a2', 'amqp reliable', { 'amqp-client': [1000, 1000, 1000], acm: [500, 500, 500] }),
      withPeers('b1', 'amqp best-effort', { acm: [2000, 2000, 2000] }),
    ];
    const modes = summarizePeerModes(rows);
    expect(modes.map((m) => `${m.mode}/${m.peer}/${m.ratios}`)).toEqual([
      'amqp reliable/amqp-client/6',
      'amqp reliable/acm/6',
      'amqp best-effort/acm/3',
    ]);
    expect(modes[0]?.throughput.median).toBeCloseTo(1, 6);
    expect(modes[1]?.throughput.median).toBeCloseTo(2, 6);
    expect(modes[2]?.throughput.median).toBeCloseTo(0.5, 6);
    expect(peerModeTable(modes)).toContain('| amqp reliable | amqp-client.js | 6 | 1.00 (0.80–1.25) |');
  });
});
