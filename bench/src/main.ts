// pnpm bench [--quick] [--rounds N] [--count N] [--only TEXT] [--clients raw,mq] [--json FILE] [--soak N]
// Runs each scenario with the raw client and with mq, alternating, several rounds; prints a table of ratios.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as amqp from 'amqplib';
import { AMQP_URL, type Driver } from './drivers/driver.js';
import { mqDriver } from './drivers/mq.js';
import { rawAmqp } from './drivers/raw-amqp.js';
import { rawMqtt } from './drivers/raw-mqtt.js';
import { makePayload } from './payload.js';
import { Recorder, type RunResult } from './recorder.js';
import { medianResult, type ScenarioSummary, table } from './report.js';
import { expectedDeliveries, label, receiverCount, type Scenario, scenarios, WINDOW } from './scenarios.js';
import { soak } from './soak.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    count: { type: 'string' },
    only: { type: 'string' },
    json: { type: 'string' },
    soak: { type: 'string' },
    clients: { type: 'string', default: 'raw,mq' },
  },
});

let runId = 0;

const EMPTY: RunResult = {
  msgsPerSec: Number.NaN,
  p50: Number.NaN,
  p99: Number.NaN,
  rssGrowthMiB: 0,
  lost: 0,
  duplicated: 0,
};

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
  const inFlight = new Set<Promise<void>>();
  for (let seq = 0; seq < s.count; seq += 1) {
    const sending: Promise<void> = send(makePayload(s.size, seq))
      .catch(count)
      .finally(() => inFlight.delete(sending));
    inFlight.add(sending);
    if (inFlight.size >= WINDOW) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return failures;
}

async function deleteQueue(name: string): Promise<void> {
  const connection = await amqp.connect(AMQP_URL);
  connection.on('error', () => {});
  try {
    const channel = await connection.createChannel();
    await channel.deleteQueue(name);
  } finally {
    await connection.close().catch(() => {});
  }
}

async function runOnce(driver: Driver, s: Scenario): Promise<RunResult> {
  runId += 1;
  const name = `mq-bench.${process.pid}-${runId}`;
  const recorder = new Recorder(receiverCount(s.topology));
  const session = await driver.open(s, name, (receiver, payload) => recorder.record(receiver, payload));
  try {
    recorder.start();
    const failures = await drive((payload) => session.send(payload), s);
    await recorder.waitFor(expectedDeliveries(s));
    const result = recorder.finish(expectedDeliveries(s));
    if (failures > 0) console.error(`  ${driver.name}: ${failures} sends failed`);
    return result;
  } finally {
    await session.close();
    if (s.family === 'amqp' && s.topology !== 'broadcast-1to3') await deleteQueue(name).catch(() => {});
  }
}

async function main(): Promise<void> {
  if (values.soak) {
    await soak(Number(values.soak));
    return;
  }
  const quick = values.quick ?? false;
  const rounds = Number(values.rounds ?? (quick ? 1 : 3));
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
    const drivers = [raw, mqDriver].filter((d) => (values.clients ?? '').split(',').includes(d.name));
    const mine = list.filter((s) => s.family === family);
    if (mine.length === 0) continue;
    // Warm up both clients (JIT, connections) before anything is measured.
    const warm: Scenario = { ...mine[0]!, count: 200, pacing: 'in-flight' };
    for (const driver of drivers) await runOnce(driver, warm);
    for (const s of mine) {
      const results: Record<'raw' | 'mq', RunResult[]> = { raw: [], mq: [] };
      for (let round = 0; round < rounds; round += 1) {
        const order: Driver[] = round % 2 === 0 ? drivers : [...drivers].reverse();
        for (const driver of order) results[driver.name].push(await runOnce(driver, s));
      }
      const rawResult = medianResult(results.raw.length > 0 ? results.raw : [EMPTY]);
      const mqResult = medianResult(results.mq.length > 0 ? results.mq : [EMPTY]);
      const summary: ScenarioSummary = {
        scenario: label(s),
        raw: rawResult,
        mq: mqResult,
        throughputRatio: mqResult.msgsPerSec / rawResult.msgsPerSec,
        p99Ratio: mqResult.p99 / rawResult.p99,
      };
      summaries.push(summary);
      console.log(
        `${summary.scenario.padEnd(48)} raw ${rawResult.msgsPerSec.toFixed(0).padStart(6)}/s  mq ${mqResult.msgsPerSec.toFixed(0).padStart(6)}/s  ratio ${summary.throughputRatio.toFixed(2)}  p99 ratio ${summary.p99Ratio.toFixed(2)}  lost ${rawResult.lost}/${mqResult.lost}  dup ${rawResult.duplicated}/${mqResult.duplicated}`,
      );
    }
  }
  console.log(`\n${table(summaries)}`);
  if (values.json) {
    writeFileSync(values.json, JSON.stringify({ node: process.version, rounds, quick, summaries }, null, 2));
    console.log(`\nwrote ${values.json}`);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
