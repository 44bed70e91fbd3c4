import { type MqError, waitForStatus } from '@mq/core';
import {
  amqpTestUrl,
  type MosquittoBroker,
  mosquittoMissing,
  mqttTestUrl,
  startMosquitto,
  unreachableUrl,
} from '@mq/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttConnection, type MqttConnectionOptions } from '../src/index.js';
import { until } from './helpers.js';

const missing = mosquittoMissing();
let broker: MosquittoBroker | undefined;
beforeAll(async () => {
  // A Mosquitto of this file's own that checks passwords (the shared one lets anonymous clients in).
  if (!missing) broker = await startMosquitto({ persistence: false, users: { app: 'right-pw' } });
}, 30_000);
afterAll(() => broker?.dispose());

/** Connects until `enough` errors were seen, then closes; returns them. */
async function errorsOf(options: MqttConnectionOptions, enough = 1): Promise<MqError[]> {
  const conn = new MqttConnection({
    reconnectMillis: 50,
    reconnectMaxMillis: 100,
    connectTimeoutMillis: 2000,
    ...options,
  });
  const errors: MqError[] = [];
  conn.on('error', (error) => errors.push(error));
  conn.connect();
  try {
    await until(() => errors.length >= enough, 'an error');
  } finally {
    await conn.close();
  }
  return errors;
}

describe.skipIf(missing !== undefined)(
  `connection errors say what is wrong${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    it('the right password connects; a wrong one is AUTH_FAILED over MQTT 5 and 3.1.1, never showing it', async () => {
      const port = broker?.port as number;
      const good = new MqttConnection({ uri: `mqtt://app:right-pw@127.0.0.1:${port}` });
      good.connect();
      await waitForStatus(good, 'connected');
      await good.close();
      for (const protocolVersion of [5, 4] as const) {
        const [error] = await errorsOf({ uri: `mqtt://app:wrong-pw@127.0.0.1:${port}`, protocolVersion });
        expect(error?.code).toBe('AUTH_FAILED');
        expect(error?.message).toMatch(/the broker refused the credentials \(.*reason (134|135|4|5)\)/);
        expect(error?.message).not.toContain('wrong-pw');
        expect(error?.cause).toBeInstanceOf(Error);
      }
    });

    it('a wrong password is reported once while the retries go on, and a wait that times out says why', async () => {
      const port = broker?.port as number;
      const conn = new MqttConnection({
        uri: `mqtt://app:wrong-pw@127.0.0.1:${port}`,
        reconnectMillis: 20,
        reconnectMaxMillis: 40,
      });
      const errors: MqError[] = [];
      let attempts = 0;
      conn.on('error', (error) => errors.push(error));
      conn.on('status', (status) => {
        if (status === 'connecting') attempts += 1;
      });
      conn.connect();
      try {
        await until(() => attempts >= 6, 'six attempts');
        expect(errors.map((e) => e.code)).toEqual(['AUTH_FAILED']);
        const timedOut = await waitForStatus(conn, 'connected', { timeoutMillis: 100 }).catch(
          (e: MqError) => e,
        );
        expect((timedOut as MqError).message).toMatch(/; last error: AUTH_FAILED /);
        expect((timedOut as MqError).cause).toBe(errors[0]);
      } finally {
        await conn.close();
      }
    });
  },
);

describe('errors that need no broker of our own', () => {
  it('an AMQP port is PROTOCOL_MISMATCH', async () => {
    const amqp = new URL(amqpTestUrl());
    const [error] = await errorsOf({ uri: `mqtt://${amqp.hostname}:${amqp.port || 5672}` });
    expect(error?.code).toBe('PROTOCOL_MISMATCH');
    expect(error?.message).toMatch(/is this an MQTT port\?/);
  });

  it('mqtts: to a plain MQTT port is TLS_FAILED', async () => {
    const plain = new URL(mqttTestUrl());
    const [error] = await errorsOf({
      uri: `mqtts://${plain.hostname}:${plain.port || 1883}`,
      tls: { rejectUnauthorized: false },
    });
    expect(error?.code).toBe('TLS_FAILED');
    expect(error?.message).toMatch(/that the port is a TLS one/);
  });

  it('a closed port and an unknown host are UNREACHABLE, reported on every attempt', async () => {
    const refused = await errorsOf({ uri: unreachableUrl('mqtt') }, 3);
    expect(refused.slice(0, 3).map((e) => e.code)).toEqual(['UNREACHABLE', 'UNREACHABLE', 'UNREACHABLE']);
    expect((await errorsOf({ uri: 'mqtt://no-such-host.invalid' }))[0]?.code).toBe('UNREACHABLE');
  });
});
