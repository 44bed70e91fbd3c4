import { type MqError, waitForStatus } from '@mq/core';
import { mqttTestUrl, unreachableUrl } from '@mq/testkit';
import { describe, expect, it } from 'vitest';
import { AmqpConnection } from '../src/index.js';
import { brokerUrl, until } from './broker.js';

/** Connects with `uri` until the first error, then closes; returns the errors seen. */
async function firstErrors(uri: string, wait = (errors: MqError[]) => errors.length > 0): Promise<MqError[]> {
  const conn = new AmqpConnection({
    uri,
    reconnectMillis: 50,
    reconnectMaxMillis: 100,
    connectTimeoutMillis: 2000,
  });
  const errors: MqError[] = [];
  conn.on('error', (error) => errors.push(error));
  conn.connect();
  try {
    await until(() => wait(errors), 'an error');
  } finally {
    await conn.close();
  }
  return errors;
}

function withCredentials(user: string, password: string, vhost = ''): string {
  const url = new URL(brokerUrl());
  url.username = user;
  url.password = password;
  url.pathname = vhost;
  return url.toString();
}

describe('connection errors say what is wrong', () => {
  it('a wrong password is AUTH_FAILED naming the user (never the password), with the broker error as cause', async () => {
    const [error] = await firstErrors(withCredentials('guest', 'not-the-password'));
    expect(error?.code).toBe('AUTH_FAILED');
    expect(error?.message).toMatch(/the broker refused user 'guest' \(.*403 \(ACCESS-REFUSED\)/);
    expect(error?.message).not.toContain('not-the-password');
    expect(error?.cause).toBeInstanceOf(Error);
  });

  it('a vhost that does not exist is VHOST_REFUSED naming it', async () => {
    const [error] = await firstErrors(withCredentials('guest', 'guest', '/no-such-vhost'));
    expect(error?.code).toBe('VHOST_REFUSED');
    expect(error?.message).toMatch(
      /the broker refused vhost 'no-such-vhost': it does not exist, or user 'guest' may not use it/,
    );
  });

  it('an MQTT port is PROTOCOL_MISMATCH', async () => {
    const mqtt = new URL(mqttTestUrl());
    const [error] = await firstErrors(`amqp://guest:guest@${mqtt.hostname}:${mqtt.port || 1883}`);
    expect(error?.code).toBe('PROTOCOL_MISMATCH');
    expect(error?.message).toMatch(/is this an AMQP port\?/);
  });

  it('a closed port and an unknown host are UNREACHABLE', async () => {
    expect((await firstErrors(unreachableUrl('amqp')))[0]?.code).toBe('UNREACHABLE');
    expect((await firstErrors('amqp://no-such-host.invalid'))[0]?.code).toBe('UNREACHABLE');
  });

  it('a failure retrying cannot fix is reported once, not on every attempt, and a wait that times out says why', async () => {
    const conn = new AmqpConnection({
      uri: withCredentials('guest', 'wrong'),
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
      expect(timedOut).toMatchObject({ code: 'TIMEOUT' });
      expect((timedOut as MqError).message).toMatch(
        /; last error: AUTH_FAILED \[mq\/amqp\] connecting to .* failed: the broker refused user 'guest'/,
      );
      expect((timedOut as MqError).cause).toBe(errors[0]);
    } finally {
      await conn.close();
    }
  });

  it('a refused port keeps being reported on each attempt (it may come up any moment)', async () => {
    const errors = await firstErrors(unreachableUrl('amqp'), (seen) => seen.length >= 3);
    expect(errors.slice(0, 3).map((e) => e.code)).toEqual(['UNREACHABLE', 'UNREACHABLE', 'UNREACHABLE']);
  });
});
