import { setTimeout as sleep } from 'node:timers/promises';
import { deleteExchange, deleteQueue } from './cleanup.js';
import type { Driver, Session } from './drivers/driver.js';
import { makePayload } from './payload.js';
import { Recorder, type RunResult } from './recorder.js';
import { expectedDeliveries, PACED_RATE, receiverCount, type Scenario, WINDOW } from './scenarios.js';
import { SendWindow } from './window.js';

let sessions = 0;

/** Set when node runs with --expose-gc (the bench script does): a clean heap before each measured round. */
const gc = (globalThis as { gc?: () => void }).gc;

/**
 * One client's sender and receivers for one scenario, open across all of its rounds, as an app keeps its
 * connections open. Each round sends its own range of sequence numbers, so a message of an earlier round that
 * arrives late is not counted again.
 */
export class ClientRun {
  readonly driver: Driver;
  readonly #scenario: Scenario;
  readonly #name: string;
  readonly #session: Session;
  /** Where deliveries go: the recorder of the round under way. */
  readonly #deliveries: { recorder: Recorder };
  #nextSeq = 0;

  private constructor(
    driver: Driver,
    scenario: Scenario,
    name: string,
    session: Session,
    deliveries: { recorder: Recorder },
  ) {
    this.driver = driver;
    this.#scenario = scenario;
    this.#name = name;
    this.#session = session;
    this.#deliveries = deliveries;
  }

  /** Opens `driver`'s sender and receivers for `scenario` on a queue/topic of its own. */
  static async open(driver: Driver, scenario: Scenario): Promise<ClientRun> {
    sessions += 1;
    const name = `mq-bench.${process.pid}-${sessions}`;
    const deliveries = { recorder: new Recorder(receiverCount(scenario.topology), 0, 0) };
    const session = await driver.open(scenario, name, (receiver, payload) =>
      deliveries.recorder.record(receiver, payload),
    );
    return new ClientRun(driver, scenario, name, session, deliveries);
  }

  /** Sends `count` messages (the scenario's own count unless given) and measures them. */
  async round(count = this.#scenario.count): Promise<RunResult> {
    const s = { ...this.#scenario, count };
    const first = this.#nextSeq;
    this.#nextSeq += count;
    const recorder = new Recorder(receiverCount(s.topology), first, count);
    this.#deliveries.recorder = recorder;
    gc?.();
    recorder.start();
    const failures = await drive((payload) => this.#session.send(payload), s, first);
    recorder.sendsDone();
    await recorder.waitFor(expectedDeliveries(s));
    const result = recorder.finish(expectedDeliveries(s), count, failures);
    if (failures > 0) console.error(`  ${this.driver.name}: ${failures} sends failed`);
    return result;
  }

  /** Closes every connection and deletes the durable queue or the exchange (a shared broker keeps nothing of ours). */
  async close(): Promise<void> {
    await this.#session.close();
    const s = this.#scenario;
    if (s.family !== 'amqp') return;
    const remove = s.topology === 'broadcast-1to3' ? deleteExchange : deleteQueue;
    await remove(this.#name).catch(() => {});
  }
}

/**
 * Sends `s.count` messages numbered from `first`: one at a time, one at a time at {@link PACED_RATE} a second
 * (message i due i / rate seconds after the first; a send that ran late is not made up by a burst), or up to
 * WINDOW in flight. Returns failures.
 */
async function drive(send: (payload: Buffer) => Promise<void>, s: Scenario, first: number): Promise<number> {
  let failures = 0;
  const count = (error: unknown): void => {
    failures += 1;
    if (failures === 1)
      console.error(`  send failed: ${error instanceof Error ? error.message : String(error)}`);
  };
  const end = first + s.count;
  if (s.pacing === 'paced') {
    const start = performance.now();
    for (let seq = first; seq < end; seq += 1) {
      const due = start + ((seq - first) * 1000) / PACED_RATE - performance.now();
      // Pacing, not waiting for the broker: the timer sets when the next message leaves.
      if (due > 0) await sleep(due);
      await send(makePayload(s.size, seq)).catch(count);
    }
    return failures;
  }
  if (s.pacing === 'awaited') {
    for (let seq = first; seq < end; seq += 1) await send(makePayload(s.size, seq)).catch(count);
    return failures;
  }
  const window = new SendWindow(WINDOW);
  for (let seq = first; seq < end; seq += 1) await window.add(send(makePayload(s.size, seq)), count);
  await window.drain();
  return failures;
}
