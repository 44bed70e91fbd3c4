import { type Backend, MqError, waitForStatus } from '@mq/core';
import { contractCases, evaluateContract } from '@mq/core/contract';
import { amqpTestUrl, TcpProxy } from '@mq/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { AmqpConnection, type AmqpConnectionOptions, amqpBackend } from '../src/index.js';
import { type AmqpLink, amqpLinkOf } from '../src/link.js';
import { amqpTarget } from './target.js';

const failoverCases = contractCases.filter((c) => c.id.startsWith('faults.failover-'));

describe('several broker addresses', () => {
  it('keeps every address, redacted, and starts on the first', () => {
    const conn = new AmqpConnection({
      uri: ['amqp://a:secret1@127.0.0.1:1/v1', 'amqps://b:secret2@127.0.0.1:2'],
    });
    expect(conn.settings.uris).toEqual(['amqp://a:***@127.0.0.1:1/v1', 'amqps://b:***@127.0.0.1:2']);
    expect(conn.settings.uri).toBe('amqp://a:***@127.0.0.1:1/v1');
    expect(conn.address).toBe('amqp://a:***@127.0.0.1:1/v1');
    expect(JSON.stringify(conn.settings)).not.toMatch(/secret/);
  });

  it('checks each URI and names the one that is wrong', () => {
    let error: unknown;
    try {
      new AmqpConnection({ uri: ['amqp://127.0.0.1', 'amqp://127.0.0.1?heartbeat=x'] });
    } catch (e) {
      error = e;
    }
    expect(MqError.hasCode(error, 'INVALID_OPTIONS')).toBe(true);
    expect((error as Error).message).toBe(
      '[mq/amqp] uri[1] query parameter heartbeat must be an integer from 0 to 65535, got "x"',
    );
  });

  it('connects with each address its own credentials', async () => {
    const broker = new URL(amqpTestUrl());
    const proxy = await TcpProxy.start({ host: broker.hostname, port: Number(broker.port || 5672) });
    const wrong = new URL(broker.toString());
    wrong.password = 'wrong-password';
    wrong.port = String(proxy.port);
    const conn = new AmqpConnection({ uri: [wrong.toString(), broker.toString()], reconnectMillis: 50 });
    const errors: MqError[] = [];
    conn.on('error', (e) => errors.push(e));
    try {
      conn.connect();
      await waitForStatus(conn, 'connected', { timeoutMillis: 10_000 });
      expect(conn.address).toBe(conn.settings.uris[1]);
      expect(errors.map((e) => e.message).join('\n')).toMatch(/ACCESS_REFUSED|403/);
      expect(errors.map((e) => e.message).join('\n')).not.toContain('wrong-password');
    } finally {
      await conn.close();
      await proxy.close();
    }
  });
});

describe('the failover cases catch a backend that does not move on', () => {
  const { target, cleanup } = amqpTarget();
  afterAll(cleanup, 30_000);

  it('a backend that only ever dials the first address fails both', async () => {
    const firstOnly: Backend = {
      ...target.backend,
      name: 'first-address-only',
      createConnection: (options) =>
        amqpBackend.createConnection({
          ...options,
          uri: Array.isArray(options.uri) ? options.uri[0] : options.uri,
        }),
    };
    const outcomes = await evaluateContract({ ...target, backend: firstOnly, timeScale: 0.3 }, failoverCases);
    expect(outcomes.map((o) => [o.id, o.outcome])).toEqual(failoverCases.map((c) => [c.id, 'failed']));
  }, 90_000);

  it('a backend that moves on after failed attempts but stays on a lost address fails both', async () => {
    // Dials the first address that answered again after a lost link: a rotation only on failed attempts.
    class Sticky extends AmqpConnection {
      constructor(options: AmqpConnectionOptions) {
        super(options);
        const link = amqpLinkOf(this) as AmqpLink;
        link.open = () => link.dial(Math.min(this.addresses.indexOf(this.address as string), 1));
      }
    }
    const sticky: Backend = {
      ...target.backend,
      name: 'sticky-address',
      createConnection: (options) => new Sticky(options as never),
    };
    const outcomes = await evaluateContract({ ...target, backend: sticky, timeScale: 0.3 }, failoverCases);
    expect(outcomes.map((o) => [o.id, o.outcome])).toEqual(failoverCases.map((c) => [c.id, 'failed']));
  }, 90_000);
});
