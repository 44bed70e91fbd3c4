import {
  amqpTestUrl,
  controlRabbitNode,
  type RabbitControl,
  type RabbitNode,
  type RabbitNodeInfo,
  rabbitmqMissing,
  startRabbitNode,
} from '@mq/testkit';
import * as amqp from 'amqplib';
import { afterAll, beforeAll, inject } from 'vitest';
import type { AmqpConnection } from '../src/index.js';

declare module 'vitest' {
  /** What `node.setup.ts` provides: the project's own RabbitMQ node, or why there is none. */
  export interface ProvidedContext {
    rabbitNode: RabbitNodeInfo | string;
  }
}

/**
 * The RabbitMQ the tests of a file talk to: the broker under test (`MQ_TEST_AMQP_URL`, shared: never disturbed,
 * no command-line tool needed), or a node of the tests' own set with {@link useNode}, on which tests may use
 * `rabbitmqctl`, close connections, restart it or raise alarms.
 */
let own: RabbitControl | undefined;

/** Points this file's tests at a node of their own (call it in `beforeAll`, or at the top of the file). */
export function useNode(node: RabbitControl): void {
  own = node;
}

/** The URL of the broker this file's tests talk to. */
export function brokerUrl(): string {
  return own?.url ?? amqpTestUrl();
}

/**
 * The RabbitMQ node the amqp test project starts for tests that need `rabbitmqctl` (see `node.setup.ts`), or
 * why there is none. It is shared by those files and never disturbed as a whole: tests on it only read, and
 * close their own connections.
 */
export function projectNode(): { node: RabbitControl; skip: undefined } | { node: undefined; skip: string } {
  const info = inject('rabbitNode');
  return typeof info === 'string'
    ? { node: undefined, skip: info }
    : { node: controlRabbitNode(info), skip: undefined };
}

/**
 * Gives this file a RabbitMQ node of its own, started once before its tests and removed after them (for tests
 * that disturb the whole node: restarts, alarms). Returns why there can be none here, for `describe.skipIf`.
 */
export function nodeForThisFile(): string | undefined {
  const missing = rabbitmqMissing();
  let node: RabbitNode | undefined;
  beforeAll(async () => {
    if (missing) return;
    node = await startRabbitNode();
    useNode(node);
  }, 120_000);
  afterAll(() => node?.dispose(), 60_000);
  return missing;
}

/** ` (skipped: <why>)` for a title, or nothing. */
export function skipNote(skip: string | undefined): string {
  return skip === undefined ? '' : ` (skipped: ${skip})`;
}

function tool(): RabbitControl {
  if (!own) throw new Error('this test needs a RabbitMQ node of its own: call useNode() first');
  return own;
}

/** Runs `rabbitmqctl -q <args>` against this file's own node and returns its output. */
export function rabbitmqctl(...args: string[]): Promise<string> {
  return tool().ctl(...args);
}

/** Restarts the RabbitMQ application of this file's own node (`stop_app` / `start_app`): every client loses its link. */
export function restartNode(): Promise<void> {
  return tool().restartApp();
}

/** Force-closes our own connection on this file's own node (as an operator or a failover would). */
export async function forceClose(connection: AmqpConnection): Promise<void> {
  const name = connection.connectionName;
  if (!name) throw new Error('the connection needs a connectionName to be found on the broker');
  const deadline = Date.now() + 10_000;
  // The broker lists a connection a moment after the handshake.
  while (!(await tool().closeConnection(name, 'mq test: forced close'))) {
    if (Date.now() > deadline) throw new Error(`connection ${name} not found on the broker`);
  }
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
  const model = await amqp.connect(brokerUrl());
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
