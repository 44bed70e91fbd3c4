import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { amqpTestUrl } from '@mq/testkit';
import * as amqp from 'amqplib';
import type { AmqpConnection } from '../src/index.js';

const run = promisify(execFile);

/** Runs `rabbitmqctl -q <args>` (about 0.3 to 1 s per call) and returns its output. */
export async function rabbitmqctl(...args: string[]): Promise<string> {
  const { stdout } = await run('rabbitmqctl', ['-q', ...args], { timeout: 60_000 });
  return stdout;
}

/** The broker-side pid of the connection whose `connection_name` is `name`, or undefined. */
export async function connectionPid(name: string): Promise<string | undefined> {
  const lines = (await rabbitmqctl('list_connections', 'pid', 'client_properties')).split('\n');
  const line = lines.find((l) => l.includes(`{"connection_name","${name}"}`));
  return line?.split('\t')[0];
}

/** Force-closes our own connection on the broker (as an operator or a failover would); waits until it is gone. */
export async function forceClose(connection: AmqpConnection): Promise<void> {
  const name = connection.connectionName;
  if (!name) throw new Error('the connection needs a connectionName to be found on the broker');
  const deadline = Date.now() + 10_000;
  let pid = await connectionPid(name);
  // The broker lists a connection a moment after the handshake.
  while (!pid && Date.now() < deadline) pid = await connectionPid(name);
  if (!pid) throw new Error(`connection ${name} not found on the broker`);
  await rabbitmqctl('close_connection', pid, 'mq test: forced close');
}

/** The given `rabbitmqctl list_queues` columns (numbers and booleans parsed) of each queue whose name starts with `prefix`. */
export async function listQueues(
  prefix: string,
  columns: readonly string[],
): Promise<Map<string, Record<string, number | boolean | string>>> {
  const out = await rabbitmqctl('list_queues', 'name', ...columns);
  const queues = new Map<string, Record<string, number | boolean | string>>();
  for (const line of out.split('\n')) {
    const [name, ...values] = line.split('\t');
    if (!name?.startsWith(prefix)) continue;
    const row: Record<string, number | boolean | string> = {};
    columns.forEach((column, i) => {
      const value = values[i] ?? '';
      row[column] =
        value === 'true' ? true : value === 'false' ? false : /^\d+$/.test(value) ? Number(value) : value;
    });
    queues.set(name, row);
  }
  return queues;
}

/** Deletes queues and exchanges through a plain amqplib connection; for test cleanup. */
export async function deleteTopology(
  queues: Iterable<string>,
  exchanges: Iterable<string> = [],
): Promise<void> {
  const model = await amqp.connect(amqpTestUrl());
  model.on('error', () => {});
  try {
    const channel = await model.createChannel();
    channel.on('error', () => {});
    for (const queue of queues) await channel.deleteQueue(queue);
    for (const exchange of exchanges) await channel.deleteExchange(exchange);
    await channel.close();
  } finally {
    await model.close().catch(() => {});
  }
}

/** Polls `predicate` every 20 ms until it holds; throws after `timeoutMillis`. */
export async function until(
  predicate: () => boolean | Promise<boolean>,
  what: string,
  timeoutMillis = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMillis} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const LOCK_DIR = join(tmpdir(), 'mq-amqp-disruptive.lock');

/**
 * Takes a machine-wide lock for broker-disturbing tests (restart, memory alarm), so that two test runs on this
 * machine never disturb the broker at the same time; a lock left by a dead process is taken over. Returns the
 * release function.
 */
export async function brokerLock(timeoutMillis = 240_000): Promise<() => Promise<void>> {
  const deadline = Date.now() + timeoutMillis;
  for (;;) {
    try {
      await mkdir(LOCK_DIR);
      await writeFile(join(LOCK_DIR, 'pid'), String(process.pid));
      return () => rm(LOCK_DIR, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(await readFile(join(LOCK_DIR, 'pid'), 'utf8').catch(() => 'NaN'));
    if (Number.isInteger(owner) && !isAlive(owner)) await rm(LOCK_DIR, { recursive: true, force: true });
    if (Date.now() > deadline)
      throw new Error(`broker lock ${LOCK_DIR} still held after ${timeoutMillis} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
