// pnpm bench [--quick] [--rounds N] [--count N] [--only TEXT] [--clients raw,amqp-client,acm,mq] [--aa]
//            [--raw-quiet-log] [--json FILE] [--soak N] [--otel] [--io] [--routing] [--rpc]
// Runs each scenario with the raw client, the AMQP peers and mq, alternating, several rounds; prints tables of
// ratios.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ClientRun } from './client-run.js';
import { acmDriver } from './drivers/acm.js';
import { amqpClientDriver } from './drivers/amqp-client.js';
import { CLIENTS, type ClientName, type Driver } from './drivers/driver.js';
import { mqDriver, mqTopicDriver } from './drivers/mq.js';
import { rawAmqp, rawAmqpTopic } from './drivers/raw-amqp.js';
import { rawMqttDriver } from './drivers/raw-mqtt.js';
import { countSocketIo } from './io-count.js';
import { enableOtel } from './otel.js';
import type { RunResult } from './recorder.js';
import {
  clientLabel,
  modeTable,
  peerModeTable,
  peerTable,
  type ScenarioSummary,
  summarize,
  summarizeModes,
  summarizePeerModes,
  table,
  tally,
} from './report.js';
import { rpcBench } from './rpc.js';
import { label, modeOf, type Scenario, scenarios } from './scenarios.js';
import { soak } from './soak.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    count: { type: 'string' },
    only: { type: 'string' },
    json: { type: 'string' },
    soak: { type: 'string' },
    clients: { type: 'string', default: CLIENTS.join(',') },
    aa: { type: 'boolean', default: false },
    'raw-quiet-log': { type: 'boolean', default: false },
    otel: { type: 'boolean', default: false },
    io: { type: 'boolean', default: false },
    routing: { type: 'boolean', default: false },
    rpc: { type: 'boolean', default: false },
  },
});

// With --otel, mq runs with @mq/otel on (the raw clients are not instrumented): the ratios show its cost.
if (values.otel) enableOtel();
// With --io, each round also counts socket writes and reads per message (where the syscalls go).
if (values.io) countSocketIo();

/** Messages of a round in which the faster client needs at most this long get more (see {@link roundCount}). */
const ROUND_SECONDS = values.quick ? 0.25 : 1;

/**
 * How many messages each round of `s` sends: the scenario's count, or more when the faster client sent the
 * warm-up's `warmCount` so fast that a round would last under {@link ROUND_SECONDS} (at most 10 times more).
 * Rounds of a tenth of a second measure garbage collections and JIT work more than message handling.
 */
function roundCount(s: Scenario, warmCount: number, warmups: RunResult[]): number {
  // A paced round lasts count / rate seconds whoever sends.
  if (s.pacing === 'paced') return s.count;
  const fastest = Math.min(...warmups.map((r) => r.seconds).filter((t) => Number.isFinite(t) && t > 0));
  if (!Number.isFinite(fastest)) return s.count;
  const wanted = Math.ceil((warmCount * ROUND_SECONDS) / fastest);
  return Math.min(Math.max(s.count, wanted), s.count * 10);
}

/**
 * Measures `s` with each driver: each opens its session once (as an app keeps its connections) and warms it up
 * with a quarter of a round, not measured; then the rounds alternate, in the order of `drivers` (raw first) in
 * even rounds and reversed (mq first) in odd ones, each sending the same {@link roundCount} messages.
 */
async function measure(
  drivers: Driver[],
  s: Scenario,
  rounds: number,
): Promise<{
  count: number;
  results: Record<ClientName, RunResult[]>;
  warmups: Partial<Record<ClientName, RunResult>>;
}> {
  const results: Record<ClientName, RunResult[]> = {
    raw: [],
    mq: [],
    'amqp-client': [],
    acm: [],
    named: [],
  };
  const runs: ClientRun[] = [];
  try {
    for (const driver of drivers) runs.push(await ClientRun.open(driver, s));
    const warmCount = Math.ceil(s.count / 4);
    const warmups: Partial<Record<ClientName, RunResult>> = {};
    for (const run of runs) warmups[run.driver.name] = await run.round(warmCount);
    const count = roundCount(s, warmCount, Object.values(warmups));
    for (let round = 0; round < rounds; round += 1) {
      const order = round % 2 === 0 ? runs : [...runs].reverse();
      for (const run of order) results[run.driver.name].push(await run.round(count));
    }
    return { count, results, warmups };
  } finally {
    await Promise.all(runs.map((run) => run.close()));
  }
}

/** `--io`: each client's socket writes per message sent (sender) and per delivery (receivers), reads per delivery. */
function printIo(summary: ScenarioSummary, family: string): void {
  const columns = [
    ['raw', summary.raw],
    ...summary.peers.map((p) => [p.name, p.result] as const),
    ['mq', summary.mq],
  ] as const;
  const cells = columns
    .filter(([, result]) => result.io)
    .map(
      ([name, { io }]) =>
        `${clientLabel(name, family)} ${io?.senderWrites.toFixed(2)}/${io?.receiverWrites.toFixed(2)}/${io?.reads.toFixed(2)}`,
    );
  console.log(
    `  io (sender writes per send / receiver writes per delivery / reads per delivery): ${cells.join(', ')}`,
  );
}

async function main(): Promise<number> {
  if (values.soak) {
    await soak(Number(values.soak), values.only);
    return 0;
  }
  const quick = values.quick ?? false;
  const rounds = Number(values.rounds ?? (quick ? 3 : 5));
  // --rpc: only the request/reply round trips (src/rpc.ts).
  if (values.rpc) {
    console.log(`\n${await rpcBench({ rounds, quick, ...(values.only ? { only: values.only } : {}) })}`);
    return 0;
  }
  const list = scenarios({
    quick,
    ...(values.only ? { only: values.only } : {}),
    ...(values.count ? { count: Number(values.count) } : {}),
  });
  const wanted = (values.clients ?? '').split(',');
  console.log(
    `mq bench: ${list.length} scenarios x ${rounds} rounds, ${wanted.join(', ')} alternating (node ${process.version})`,
  );
  if (values.routing) {
    console.log(
      "--routing: raw and mq both route by topic (topic eu.created, receivers of *.created; AMQP topic exchange, MQTT topic filter); 'mq named' is mq on named queues in the same rounds",
    );
  }
  const summaries: ScenarioSummary[] = [];
  for (const family of ['amqp', 'mqtt'] as const) {
    // --routing: both the raw client and mq route by topic (raw and mq columns), and mq on named queues runs in
    // the same rounds as a third column: mq ÷ raw says what mq's routing costs over the raw client doing the same,
    // mq ÷ named what topic routing costs against named queues, the broker's exchange or filter matching included.
    const routing = values.routing ?? false;
    const raw: Driver =
      family === 'amqp'
        ? routing
          ? rawAmqpTopic
          : rawAmqp
        : rawMqttDriver(values['raw-quiet-log'], routing);
    // --aa: the raw client in both columns, so the ratios show the noise floor of this machine.
    const other: Driver = values.aa ? { ...raw, name: 'mq' } : routing ? mqTopicDriver : mqDriver;
    // The other Node AMQP clients an app could pick, in the same rounds (mqtt.js has no peer of its weight).
    const peers: Driver[] = routing
      ? [{ ...mqDriver, name: 'named' }]
      : family === 'amqp' && !values.aa
        ? [amqpClientDriver, acmDriver]
        : [];
    const drivers = [raw, ...peers, other].filter((d) => wanted.includes(d.name));
    const mine = list.filter((s) => s.family === family);
    if (mine.length === 0) continue;
    // Warm up both clients (JIT of every send, confirm and ack path) before anything is measured.
    const modes = [...new Set(mine.map((s) => s.mode))];
    for (const mode of modes) {
      for (const pacing of ['in-flight', 'awaited'] as const) {
        const warm: Scenario = {
          family,
          mode,
          size: 256,
          topology: 'unicast-1to1',
          pacing,
          count: (pacing === 'awaited' ? 500 : 2000) / (quick ? 2 : 1),
        };
        await measure(drivers, warm, 1);
      }
    }
    for (const s of mine) {
      const { count, results, warmups } = await measure(drivers, s, rounds);
      const summary = summarize(
        { scenario: label(s), mode: modeOf(s), count, reliable: s.mode !== 'best-effort' },
        results.raw,
        results.mq,
        { 'amqp-client': results['amqp-client'], acm: results.acm, named: results.named },
      );
      // Not counted (the run fails only on losses in measured rounds), but shown: a QoS 1 loss there is Mosquitto
      // dropping for a subscriber over max_queued_messages behind (raw mqtt.js has it too; see the README).
      for (const [name, warm] of Object.entries(warmups)) {
        const faults = warm.lost + warm.duplicated + warm.sendFailures;
        if (faults > 0 && summary.reliable) {
          console.error(
            `  warm-up of ${name}: lost ${warm.lost}, duplicated ${warm.duplicated}, failed sends ${warm.sendFailures} (not counted)`,
          );
        }
      }
      summaries.push(summary);
      const { raw, mq, throughput, p99 } = summary;
      const versus = summary.peers
        .map(
          (p) =>
            `  ${clientLabel(p.name, family)} ${p.result.msgsPerSec.toFixed(0)}/s ratio ${p.throughput.median.toFixed(2)} p99 ratio ${p.p99.median.toFixed(2)} CPU ${p.result.cpuMicrosPerMsg.toFixed(0)}`,
        )
        .join('');
      console.log(
        `${summary.scenario.padEnd(48)} x${count} raw ${raw.msgsPerSec.toFixed(0).padStart(6)}/s  mq ${mq.msgsPerSec.toFixed(0).padStart(6)}/s  ratio ${throughput.median.toFixed(2)} (CI ${throughput.ci.map((r) => r.toFixed(2)).join('-')})  sends/s ${raw.sendsPerSec.toFixed(0)}/${mq.sendsPerSec.toFixed(0)}  p99 ratio ${p99.median.toFixed(2)} (CI ${p99.ci.map((r) => r.toFixed(2)).join('-')})  CPU µs/msg ${raw.cpuMicrosPerMsg.toFixed(0)}/${mq.cpuMicrosPerMsg.toFixed(0)}  lost ${raw.lost}/${mq.lost}  dup ${raw.duplicated}/${mq.duplicated}${versus}`,
      );
      // Printed under its scenario's line.
      if (values.io) printIo(summary, family);
    }
  }
  const modes = summarizeModes(summaries);
  const peerModes = summarizePeerModes(summaries);
  console.log(`\n${table(summaries)}\n\n${modeTable(modes)}\n\n${tally(summaries, modes)}`);
  if (peerModes.length > 0) {
    console.log(
      `\n${values.routing ? 'mq topic routing against mq on named queues (mq = topic)' : 'mq against the other Node AMQP clients'}:\n\n${peerTable(summaries)}\n\n${peerModeTable(peerModes)}`,
    );
  }
  if (values.json) {
    writeFileSync(
      values.json,
      JSON.stringify({ node: process.version, rounds, quick, modes, peerModes, summaries }, null, 2),
    );
    console.log(`\nwrote ${values.json}`);
  }
  // Speed never fails the run (a busy CI machine is slow, not broken). mq losing, duplicating or failing to
  // send a reliable message does: that is a correctness bug, not noise. Best-effort losses are only reported
  // (QoS 0 and non-confirmed publishes may drop by design), and so are the raw client's.
  const broken = summaries.filter(
    (r) => r.reliable && (r.mq.lost > 0 || r.mq.duplicated > 0 || r.mq.sendFailures > 0),
  );
  for (const r of broken) {
    console.error(
      `FAIL ${r.scenario}: mq lost ${r.mq.lost}, duplicated ${r.mq.duplicated}, failed sends ${r.mq.sendFailures}`,
    );
  }
  return broken.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
