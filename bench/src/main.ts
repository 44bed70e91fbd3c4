// pnpm bench [--quick] [--rounds N] [--count N] [--only TEXT] [--clients raw,mq] [--aa] [--json FILE] [--soak N]
// Runs each scenario with the raw client and with mq, alternating, several rounds; prints a table of ratios.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { deleteQueue } from './cleanup.js';
import type { Driver } from './drivers/driver.js';
import { mqDriver } from './drivers/mq.js';
import { rawAmqp } from './drivers/raw-amqp.js';
import { rawMqtt } from './drivers/raw-mqtt.js';
import { makePayload } from './payload.js';
import { Recorder, type RunResult } from './recorder.js';
import { type ScenarioSummary, summarize, table, tally } from './report.js';
import { expectedDeliveries, label, receiverCount, type Scenario, scenarios, WINDOW } from './scenarios.js';
import { soak } from './soak.js';
import { SendWindow } from './window.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    count: { type: 'string' },
    only: { type: 'string' },
    json: { type: 'string' },
    soak: { type: 'string' },
    clients: { type: 'string', default: 'raw,mq' },
    aa: { type: 'boolean', default: false },
  },
});

let runId = 0;

/** Set when node runs with --expose-gc (the bench script does): a clean heap before each measured run. */
const gc = (globalThis as { gc?: () => void }).gc;

/** Sends `s.count` messages: one at a time, or keeping up to WINDOW in flight. Returns the failed sends. */
async function drive(send: (payload: Buffer) => Promise<void>, s: Scenario): Promise<number> {
  let failures = 0;
  const count = (error: unknown): void => {
    failures += 1;
    if (failures === 1)
      console.error(`  send failed: ${error instanceof Error ? error.message : String(error)}`);
  };
  if (s.pacing === 'awaited') {
    for (let seq = 0; seq < s.count; seq += 1) await send(makePayload(s.size, seq)).catch(count);
    return failures;
  }
  const window = new SendWindow(WINDOW);
  for (let seq = 0; seq < s.count; seq += 1) await window.add(send(makePayload(s.size, seq)), count);
  await window.drain();
  return failures;
}

async function runOnce(driver: Driver, s: Scenario): Promise<RunResult> {
  runId += 1;
  const name = `mq-bench.${process.pid}-${runId}`;
  const recorder = new Recorder(receiverCount(s.topology));
  const session = await driver.open(s, name, (receiver, payload) => recorder.record(receiver, payload));
  try {
    gc?.();
    recorder.start();
    const failures = await drive((payload) => session.send(payload), s);
    recorder.sendsDone();
    await recorder.waitFor(expectedDeliveries(s));
    const result = recorder.finish(expectedDeliveries(s), s.count, failures);
    if (failures > 0) console.error(`  ${driver.name}: ${failures} sends failed`);
    return result;
  } finally {
    await session.close();
    if (s.family === 'amqp' && s.topology !== 'broadcast-1to3') await deleteQueue(name).catch(() => {});
  }
}

async function main(): Promise<number> {
  if (values.soak) {
    await soak(Number(values.soak));
    return 0;
  }
  const quick = values.quick ?? false;
  const rounds = Number(values.rounds ?? (quick ? 3 : 5));
  const list = scenarios({
    quick,
    ...(values.only ? { only: values.only } : {}),
    ...(values.count ? { count: Number(values.count) } : {}),
  });
  console.log(
    `mq bench: ${list.length} scenarios x ${rounds} rounds, raw and mq alternating (node ${process.version})`,
  );
  const summaries: ScenarioSummary[] = [];
  for (const family of ['amqp', 'mqtt'] as const) {
    const raw = family === 'amqp' ? rawAmqp : rawMqtt;
    // --aa: the raw client in both columns, so the ratios show the noise floor of this machine.
    const other: Driver = values.aa ? { ...raw, name: 'mq' } : mqDriver;
    const drivers = [raw, other].filter((d) => (values.clients ?? '').split(',').includes(d.name));
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
        for (const driver of drivers) await runOnce(driver, warm);
      }
    }
    for (const s of mine) {
      const results: Record<'raw' | 'mq', RunResult[]> = { raw: [], mq: [] };
      for (let round = 0; round < rounds; round += 1) {
        const order: Driver[] = round % 2 === 0 ? drivers : [...drivers].reverse();
        for (const driver of order) results[driver.name].push(await runOnce(driver, s));
      }
      const summary = summarize(label(s), s.mode !== 'best-effort', results.raw, results.mq);
      summaries.push(summary);
      const { raw, mq, throughput, p99 } = summary;
      console.log(
        `${summary.scenario.padEnd(48)} raw ${raw.msgsPerSec.toFixed(0).padStart(6)}/s  mq ${mq.msgsPerSec.toFixed(0).padStart(6)}/s  ratio ${throughput.median.toFixed(2)} (CI ${throughput.ci.map((r) => r.toFixed(2)).join('-')})  sends/s ${raw.sendsPerSec.toFixed(0)}/${mq.sendsPerSec.toFixed(0)}  p99 ratio ${p99.median.toFixed(2)} (CI ${p99.ci.map((r) => r.toFixed(2)).join('-')})  CPU µs/msg ${raw.cpuMicrosPerMsg.toFixed(0)}/${mq.cpuMicrosPerMsg.toFixed(0)}  lost ${raw.lost}/${mq.lost}  dup ${raw.duplicated}/${mq.duplicated}`,
      );
    }
  }
  console.log(`\n${table(summaries)}\n\n${tally(summaries)}`);
  if (values.json) {
    writeFileSync(values.json, JSON.stringify({ node: process.version, rounds, quick, summaries }, null, 2));
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
