import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runTsx } from './run-tsx.js';

const examples = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const amqpUrl = process.env.MQ_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const mqttUrl = process.env.MQ_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

/** Runs an example the way its README says (tsx), with a deadline; resolves with its exit code and output. */
function runExample(
  name: string,
  env: Record<string, string> = {},
  cwd = join(examples, name),
): Promise<{ code: number | null; output: string }> {
  return runTsx('src/main.ts', { cwd, env, timeoutMillis: 50_000 });
}

describe('the demo', () => {
  it.each([
    ['the in-process broker by default', {}],
    ['RabbitMQ when MQ_URL is amqp://', { MQ_URL: amqpUrl }],
    ['Mosquitto when MQ_URL is mqtt://', { MQ_URL: mqttUrl }],
  ])(
    'runs every step on %s and exits 0',
    async (_label, env) => {
      const { code, output } = await runExample('demo', env);
      expect(output).toContain('Done: every step worked.');
      expect(output).toMatch(/total 9 of 9, each once/);
      expect(output).toMatch(/receiver 3 got: news-1, news-2, news-3/);
      // The failing job is retried behind the good ones, then dead-lettered after its third delivery.
      expect(output).toContain(
        'dead-letter queue got bad-job from mq-demo.work after 3 deliveries: cannot parse bad-job',
      );
      expect(output.indexOf('good-job-2: done')).toBeLessThan(output.indexOf('bad-job, delivery 2'));
      expect(code).toBe(0);
    },
    60_000,
  );

  it('says which package to install when the backend for the URL is not installed, and exits 1', async () => {
    // A copy of the demo in an app that has @mq/core and @mq/memory but not @mq/amqp.
    const app = mkdtempSync(join(tmpdir(), 'mq-demo-app-'));
    try {
      cpSync(join(examples, 'demo', 'src'), join(app, 'src'), { recursive: true });
      writeFileSync(join(app, 'package.json'), JSON.stringify({ type: 'module' }));
      mkdirSync(join(app, 'node_modules', '@mq'), { recursive: true });
      for (const pkg of ['core', 'memory']) {
        symlinkSync(
          realpathSync(join(examples, 'demo', 'node_modules', '@mq', pkg)),
          join(app, 'node_modules', '@mq', pkg),
        );
      }
      const { code, output } = await runExample('demo', { MQ_URL: amqpUrl }, app);
      expect(output).toContain('amqp: URIs need the @mq/amqp package: npm install @mq/amqp');
      expect(code).toBe(1);
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  }, 60_000);

  it('names the package to install for a scheme it cannot serve, and exits 1', async () => {
    const { code, output } = await runExample('demo', { MQ_URL: 'nats://127.0.0.1:4222' });
    expect(output).toContain('no mq backend serves nats: URIs');
    expect(code).toBe(1);
  }, 60_000);
});

describe('the examples', () => {
  it.each([
    ['the in-process broker by default', {}],
    ['Mosquitto, with 50 plain mqtt.js devices', { MQ_URL: mqttUrl }],
    ['RabbitMQ', { MQ_URL: amqpUrl }],
  ])(
    'routing: the *.temperature subscriber gets the 50 temperatures and no humidity, on %s',
    async (_label, env) => {
      const { code, output } = await runExample('routing', env);
      expect(output).toContain(
        'the *.temperature subscriber got 50 temperatures (d1: 18.0) and 0 other readings',
      );
      expect(code).toBe(0);
    },
    60_000,
  );

  it('simple sends and receives five messages over AMQP', async () => {
    const { code, output } = await runExample('simple', { AMQP_URL: amqpUrl });
    expect(output).toContain('all 5 messages received');
    expect(code).toBe(0);
  }, 60_000);

  it('simple sends and receives five messages over MQTT when RUN_MQTT is set', async () => {
    const { code, output } = await runExample('simple', { RUN_MQTT: '1', MQTT_URL: mqttUrl });
    expect(output).toContain('from MQTT');
    expect(output).toContain('all 5 messages received');
    expect(code).toBe(0);
  }, 60_000);

  it('work-queue spreads 12 jobs over three workers, each once', async () => {
    const { code, output } = await runExample('work-queue', { AMQP_URL: amqpUrl });
    expect(output).toContain('all 12 jobs done, each once');
    expect(code).toBe(0);
  }, 60_000);

  it.each([
    ['the in-process broker', {}],
    ['RabbitMQ', { MQ_URL: amqpUrl }],
    ['Mosquitto (MQTT 5)', { MQ_URL: mqttUrl }],
  ])(
    'rpc answers every request of two clients, each to its own caller, on %s',
    async (_label, env) => {
      const { code, output } = await runExample('rpc', env);
      expect(output).toContain('client 1: A-1 -> 12.5');
      expect(output).toContain('client 2: Z-9 -> unknown sku');
      expect(output).toContain('all 8 requests answered, each to its own caller');
      expect(code).toBe(0);
    },
    60_000,
  );

  it('pubsub gives every subscriber every event', async () => {
    const { code, output } = await runExample('pubsub', { MQTT_URL: mqttUrl });
    expect(output).toContain('every subscriber got every event');
    expect(code).toBe(0);
  }, 60_000);
});
