import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Connection, Queue } from '@mq/core';
import { amqpTestUrl, mqttTestUrl } from '@mq/testkit';
import { Controller, Inject } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { MqClient, MqEventPattern } from '../src/index.js';
import { names, startMicroservice, until } from './app.js';
import { plainConnection, plainQueue } from './backends.js';

const worker = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'worker.mjs');
const JOBS = 400;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()?.();
});

interface Result {
  id: number;
  worker: string;
  redelivered?: boolean;
}

/** Starts the worker fixture in its own process; resolves once it listens. */
async function startWorker(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [worker], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  closers.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await until(() => output.includes('listening') || child.exitCode !== null, 'the worker to listen', 20_000);
  if (!output.includes('listening')) throw new Error(`the worker did not start: ${output}`);
  return { child, output: () => output };
}

/** Collects every result a worker reports on `name`, acking each. */
async function collectResults(
  uri: string,
  name: string,
): Promise<{ results: Result[]; connection: Connection; queue: Queue }> {
  const results: Result[] = [];
  const { backend, connection } = await plainConnection(uri);
  closers.push(() => connection.close());
  const queue = await plainQueue(backend, connection, { name, isRecv: true }, async (_q, message) => {
    results.push(JSON.parse(message.payload.toString()) as Result);
    await message.ack();
  });
  return { results, connection, queue };
}

/** Every id from 0 to count - 1 once: nothing lost, nothing handled twice. */
function expectEachOnce(results: readonly Result[], count: number): void {
  const ids = results.map((r) => r.id).sort((a, b) => a - b);
  expect(ids).toEqual(Array.from({ length: count }, (_, i) => i));
}

describe.each([
  ['RabbitMQ', amqpTestUrl],
  ['Mosquitto', mqttTestUrl],
])('shutting a Nest microservice down under load (%s)', (_label, uriOf) => {
  it('SIGTERM with enableShutdownHooks: in-flight handlers finish and report, the rest go to the other worker; nothing lost or done twice', async () => {
    const uri = uriOf();
    const queue = names('shutdown');
    const { results } = await collectResults(uri, queue.events);
    const env = { MQ_URL: uri, MQ_JOBS: queue.jobs, MQ_RESULTS: queue.events };
    const first = await startWorker({ ...env, WORKER: 'first' });
    const second = await startWorker({ ...env, WORKER: 'second' });

    const { backend, connection } = await plainConnection(uri);
    closers.push(() => connection.close());
    const jobs = await plainQueue(backend, connection, { name: queue.jobs, isRecv: false });
    const sends = Array.from({ length: JOBS }, (_, id) => jobs.sendMsg(Buffer.from(JSON.stringify({ id }))));
    await until(
      () => results.filter((r) => r.worker === 'first').length >= 40,
      'the first worker to be busy',
    );
    const exited = new Promise<string | null>((resolve) =>
      first.child.once('exit', (_code, signal) => resolve(signal)),
    );
    first.child.kill('SIGTERM');
    await Promise.all(sends);
    expect(await exited).toBe('SIGTERM');
    expect(first.output()).toContain('shut down on SIGTERM');
    await until(() => results.length >= JOBS, `${JOBS} results`, 30_000);
    expectEachOnce(results, JOBS);
    // No job reached a handler twice: what the first worker had taken, it finished and acked before closing.
    expect(results.filter((r) => r.redelivered)).toEqual([]);
    const byFirst = results.filter((r) => r.worker === 'first').length;
    expect(byFirst).toBeGreaterThanOrEqual(40);
    expect(byFirst).toBeLessThan(JOBS);
    second.child.kill('SIGTERM');
  }, 90_000);
});

describe('shutting a Nest microservice down under load (memory://)', () => {
  it('app.close() while handlers run: they finish and emit, the rest stay queued for the next app', async () => {
    const uri = `memory://${names('shutdown-memory').events.slice(-20)}`;
    const queue = names('shutdown-memory');
    const results: Result[] = [];
    let running = 0;
    const makeController = (name: string) => {
      @Controller()
      class Jobs {
        constructor(@Inject(MqClient) readonly client: MqClient) {}
        @MqEventPattern(queue.jobs, { prefetch: 20 })
        async onJob(@Payload() job: { id: number }): Promise<void> {
          running += 1;
          await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * 5));
          await lastValueFrom(this.client.emit(queue.events, { id: job.id, worker: name }));
          running -= 1;
        }
        @MqEventPattern(queue.events)
        onResult(@Payload() result: Result): void {
          if (result.worker === name || name === 'second') results.push(result);
        }
      }
      return Jobs;
    };
    const first = await startMicroservice({ uri }, { controllers: [makeController('first')] });
    const { backend, connection } = await plainConnection(uri);
    closers.push(() => connection.close());
    const jobs = await plainQueue(backend, connection, { name: queue.jobs, isRecv: false });
    await Promise.all(
      Array.from({ length: JOBS }, (_, id) => jobs.sendMsg(Buffer.from(JSON.stringify({ id })))),
    );
    await until(() => results.length >= 40 && running > 0, 'handlers running');
    await first.app.close();
    expect(running).toBe(0);
    const second = await startMicroservice({ uri }, { controllers: [makeController('second')] });
    closers.push(() => second.app.close());
    await until(() => results.length >= JOBS, `${JOBS} results`);
    expectEachOnce(results, JOBS);
  });
});
