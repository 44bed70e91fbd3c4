import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { amqpTestUrl, mqttTestUrl } from '@mq/testkit';
import { describe, expect, it } from 'vitest';
// The demo's runner: the example runs as `pnpm start` (tsx) runs it.
import { runTsx } from '../../demo/test/run-tsx.js';

const here = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('the Nest example (pnpm --filter @mq/example-nestjs start)', () => {
  it.each([
    ['the in-process broker by default', {}],
    ['RabbitMQ when MQ_URL is amqp://', { MQ_URL: amqpTestUrl() }],
    ['Mosquitto when MQ_URL is mqtt://', { MQ_URL: mqttTestUrl() }],
  ])('bills two orders and dead-letters the third on %s, then exits 0', async (_label, env) => {
    const { code, output } = await runTsx('src/main.ts', { cwd: here, env, timeoutMillis: 50_000 });
    expect(output).toContain('Done: 2 orders billed, 1 dead-lettered.');
    expect(output).toMatch(/dead letter: \w+-2 after 3 deliveries: order \w+-2: negative total/);
    expect(output).toMatch(/HANDLER_FAILED .*retrying in 1000 ms \(delivery 2 of 3\)/);
    expect(output).toContain('health: ok, mq up');
    expect(code).toBe(0);
  });
});
