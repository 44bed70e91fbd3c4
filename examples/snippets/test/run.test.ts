import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { amqpTestUrl, mqttTestUrl } from '@mq/testkit';
import { describe, expect, it } from 'vitest';
// The demo's runner: one way to run a TypeScript program as a user would, for every example.
import { runTsx } from '../../demo/test/run-tsx.js';

const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const redisUrl = process.env.MQ_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Runs `src/<name>.ts` in its own process, as `npx tsx` would; resolves with its exit code and output. */
function run(
  name: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  return runTsx(`src/${name}.ts`, { cwd: here, env, timeoutMillis: 20_000 });
}

describe('every README snippet runs as written, shows what it says, and exits by itself', () => {
  it.each([
    ['hello-memory', {}],
    ['hello-amqp', { AMQP_URL: amqpTestUrl() }],
    ['hello-mqtt', { MQTT_URL: mqttTestUrl() }],
  ])('the README example %s sends hello and its loop takes it', async (name, env) => {
    const { code, output } = await run(name, env);
    expect(output).toBe('hello\n');
    expect(code).toBe(0);
  });

  it('concepts (@mq/memory): prints hello', async () => {
    const { code, output } = await run('concepts');
    expect(output).toBe('hello\n');
    expect(code).toBe(0);
  });

  it.each([
    ['memory://demo', {}, '@mq/memory serves memory://demo'],
    [amqpTestUrl(), { MQ_URL: amqpTestUrl() }, '@mq/amqp serves'],
    [mqttTestUrl(), { MQ_URL: mqttTestUrl() }, '@mq/mqtt serves'],
  ])('select-backend picks the backend for %s', async (_uri, env, expected) => {
    const { code, output } = await run('select-backend', env);
    expect(output).toContain(expected);
    expect(output).toContain("queue 'jobs' is closed");
    expect(code).toBe(0);
  });

  it('the @mq/amqp quick start: hello through RabbitMQ', async () => {
    const { code, output } = await run('amqp-quickstart', { AMQP_URL: amqpTestUrl() });
    expect(output.split('\n')).toContain('hello');
    expect(code).toBe(0);
  });

  it('amqp-declared: a queue declared with arguments, and a receiver attached to it with declare: false', async () => {
    const { code, output } = await run('amqp-declared', { AMQP_URL: amqpTestUrl() });
    expect(output).toBe('got invoice 42\n');
    expect(code).toBe(0);
  });

  it('the @mq/mqtt quick start: hello through Mosquitto', async () => {
    const { code, output } = await run('mqtt-quickstart', { MQTT_URL: mqttTestUrl() });
    expect(output).toBe('hello\n');
    expect(code).toBe(0);
  });

  it('health (@mq/memory): ready while the receiver is attached, not once closed', async () => {
    const { code, output } = await run('health');
    expect(output).toBe(
      'ready: true\n{ attached: true, lastDeliveryAgeMillis: undefined, sendsInFlight: 0 }\nready: false\n',
    );
    expect(code).toBe(0);
  });

  it('typed-orders (RabbitMQ): a zod-typed order is handled, an invalid one refused, a malformed one from plain amqplib dead-lettered once', async () => {
    const { code, output } = await run('typed-orders', { AMQP_URL: amqpTestUrl() });
    expect(output.trim().split('\n').sort()).toEqual(
      [
        'order 1: 2 x tea',
        'refused: 2 issues',
        'dead letter broken-3: invalid payload',
        'worker: INVALID_PAYLOAD',
      ].sort(),
    );
    expect(code).toBe(0);
  });

  it('routing (@mq/memory): the billing group gets the created orders with their topic, not the shipped one', async () => {
    const { code, output } = await run('routing');
    expect(output).toBe('eu.created: order 1\nus.created: order 2\n');
    expect(code).toBe(0);
  });

  it.each([
    ['memory://request-reply', {}],
    [amqpTestUrl(), { MQ_URL: amqpTestUrl() }],
    [mqttTestUrl(), { MQ_URL: mqttTestUrl() }],
  ])('request-reply on %s: the client gets the price, then aborts a request', async (_uri, env) => {
    const { code, output } = await run('request-reply', env);
    expect(output).toBe('application/json {"sku":"A-1","price":42}\naborted\n');
    expect(code).toBe(0);
  });

  it('metadata (@mq/memory): the receiver reads what the sender set', async () => {
    const { code, output } = await run('metadata');
    expect(output).toBe('order-1001 for checkout-77 (application/json, tenant acme, redelivered false)\n');
    expect(code).toBe(0);
  });

  it.each([
    ['memory://dead-letters', {}],
    [amqpTestUrl(), { MQ_URL: amqpTestUrl() }],
    [mqttTestUrl(), { MQ_URL: mqttTestUrl() }],
  ])(
    'dead-letters on %s: the poison job fails 3 times, is dead-lettered, inspected, replayed and done',
    async (_uri, env) => {
      const { code, output } = await run('dead-letters', env);
      const lines = output.trim().split('\n');
      expect(lines.filter((line) => line === 'worker: HANDLER_FAILED')).toHaveLength(3);
      expect(lines.filter((line) => line === 'worker: DEAD_LETTERED')).toHaveLength(1);
      expect(lines).toContain('worker: did report (job-2)');
      expect(lines).toContain(
        'dead letter: poison from example.jobs after 3 deliveries: cannot parse poison',
      );
      expect(lines).toContain('worker: did poison (job-1)');
      expect(lines.indexOf('worker: did poison (job-1)')).toBeGreaterThan(
        lines.indexOf('dead letter: poison from example.jobs after 3 deliveries: cannot parse poison'),
      );
      expect(lines).toHaveLength(7);
      expect(code).toBe(0);
    },
  );

  it('messages-loop (@mq/memory): a for-await loop takes three jobs, then the signal ends it and closes the receiver', async () => {
    const { code, output } = await run('messages-loop');
    expect(output).toBe('handled a, b, c; receiver closed\n');
    expect(code).toBe(0);
  });

  it('otel: the handler runs in the trace the sender started, with send and process spans', async () => {
    const { code, output } = await run('otel');
    expect(output).toBe(
      "handler ran in the sender's trace: true\nspans: checkout, process jobs, send jobs\n",
    );
    expect(code).toBe(0);
  });

  it('cluster: a node that is down is skipped, and the quorum queue takes and gives the job', async () => {
    const broker = new URL(amqpTestUrl());
    const { code, output } = await run('cluster', {
      AMQP_NODES: `amqp://guest:guest@127.0.0.1:1,${broker.toString()}`,
    });
    expect(output).toBe('error UNREACHABLE\nsent on the second node\nworker got job 1\n');
    expect(code).toBe(0);
  });

  it('the @mq/mqtt persistent session: a message sent while the worker was away reaches it', async () => {
    const { code, output } = await run('mqtt-persistent', { MQTT_URL: mqttTestUrl() });
    expect(output).toBe('got while away: invoice 42\n');
    expect(code).toBe(0);
  });

  it('the custom Redis backend: hello through Redis', async () => {
    const { code, output } = await run('redis-usage', { REDIS_URL: redisUrl });
    expect(output.split('\n')).toContain('hello');
    expect(code).toBe(0);
  });
});
