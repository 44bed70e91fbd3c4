import { createRequire } from 'node:module';
import { inspect } from 'node:util';
import { mqttTestUrl } from '@mq/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { mqttDriverOf } from '../src/connection-driver.js';
import type { MqttConnection } from '../src/index.js';
import { connection } from './helpers.js';

/** The logger mqtt.js calls on `conn`'s open link. */
function linkLog(conn: MqttConnection): { namespace?: unknown } {
  const link = mqttDriverOf(conn)?.link;
  if (!link) throw new Error('the connection has no open link');
  return link.client.log as { namespace?: unknown };
}

/** The `debug` module mqtt.js logs through (resolved from mqtt.js, as it loads it). */
interface DebugModule {
  enable(namespaces: string): void;
  disable(): string;
  log: (...args: unknown[]) => void;
}
const requireFromMqtt = createRequire(createRequire(import.meta.url).resolve('mqtt'));
const debug = requireFromMqtt('debug') as DebugModule;

describe("mqtt.js's debug log", () => {
  const originalLog = debug.log;
  // What DEBUG enabled when the file started (a developer's `DEBUG=...`), restored after each test.
  const namespaces = debug.disable();
  debug.enable(namespaces);
  afterEach(() => {
    debug.disable();
    debug.enable(namespaces);
    debug.log = originalLog;
  });

  it('is replaced by a no-op while DEBUG does not enable mqttjs:client (it costs about 1 µs per message)', async () => {
    debug.disable();
    const conn = await connection();
    const log = linkLog(conn);
    expect(log).toBeTypeOf('function');
    expect(log.namespace).toBeUndefined();
  });

  it('is kept, and logs, when DEBUG enables mqttjs:client', async () => {
    const lines: string[] = [];
    debug.log = (...args: unknown[]) => {
      lines.push(args.map(String).join(' '));
    };
    debug.enable('mqttjs:client');
    await connection();
    expect(lines.some((line) => line.includes('mqttjs:client'))).toBe(true);
  });

  it('never shows the password, although mqtt.js logs the CONNECT packet whole', async () => {
    const lines: string[] = [];
    debug.log = (...args: unknown[]) => {
      lines.push(args.map(String).join(' '));
    };
    debug.enable('mqttjs*');
    const uri = new URL(mqttTestUrl());
    uri.username = 'mq-log-test';
    uri.password = 'pw-Zq81-not-for-logs';
    const conn = await connection({ uri: uri.toString() });
    // Nor does anything that holds the client, once it has connected with it.
    expect(inspect(mqttDriverOf(conn)?.link, { depth: 20, showHidden: true })).not.toContain(
      'pw-Zq81-not-for-logs',
    );
    const connect = lines.filter((line) => line.includes("cmd: 'connect'"));
    expect(connect.length).toBeGreaterThan(0);
    expect(connect.join('\n')).toContain("password: '***'");
    expect(lines.join('\n')).not.toContain('pw-Zq81-not-for-logs');
  });
});
