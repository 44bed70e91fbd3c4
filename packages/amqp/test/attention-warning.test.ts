import { amqpTestUrl } from '@mq/testkit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AmqpConnection } from '../src/index.js';
import { until } from './broker.js';

// Connections that can never work, to the broker under test (a refused login or vhost disturbs nothing there).
afterEach(() => {
  vi.restoreAllMocks();
});

function withUri(change: (url: URL) => void): string {
  const url = new URL(amqpTestUrl());
  change(url);
  return url.toString();
}

describe('a connection that can never work, with no error listener', () => {
  it.each([
    ['a wrong password', withUri((url) => (url.password = 'wrong-password')), 'AUTH_FAILED'],
    ['a vhost that does not exist', withUri((url) => (url.pathname = '/no-such-vhost')), 'VHOST_REFUSED'],
  ])(
    'with %s prints one warning, once, naming the failure',
    async (_what, uri, code) => {
      const warnings: string[] = [];
      vi.spyOn(process, 'emitWarning').mockImplementation((warning) => {
        warnings.push(String(warning));
      });
      const conn = new AmqpConnection({ uri, reconnectMillis: 100, reconnectMaxMillis: 200 });
      const statuses: string[] = [];
      conn.on('status', (status) => statuses.push(status));
      conn.connect();
      await until(() => statuses.filter((s) => s === 'disconnected').length >= 3, 'three failed attempts');
      await conn.close();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(code);
      expect(warnings[0]).not.toContain('wrong-password');
    },
    30_000,
  );
});
