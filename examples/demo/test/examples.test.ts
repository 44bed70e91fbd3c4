import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const examples = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const amqpUrl = process.env.MQ_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const mqttUrl = process.env.MQ_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

/** Runs an example the way its README says (tsx), with a deadline; resolves with its exit code and output. */
function runExample(
  name: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: join(examples, name),
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
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
      expect(code).toBe(0);
    },
    60_000,
  );

  it('names the package to install for a scheme it cannot serve, and exits 1', async () => {
    const { code, output } = await runExample('demo', { MQ_URL: 'nats://127.0.0.1:4222' });
    expect(output).toContain('no mq backend serves nats: URIs');
    expect(code).toBe(1);
  }, 60_000);
});

describe('the examples', () => {
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

  it('pubsub gives every subscriber every event', async () => {
    const { code, output } = await runExample('pubsub', { MQTT_URL: mqttUrl });
    expect(output).toContain('every subscriber got every event');
    expect(code).toBe(0);
  }, 60_000);
});
