import { MqError, waitForStatus } from '@mq/core';
import { uniqueId } from '@mq/testkit';
import { describe, expect, it } from 'vitest';
import { connection, queueName, receiver, sender } from './helpers.js';

describe('sends', () => {
  // mqtt.js settles a clean session's pending publishes itself when the socket closes, but keeps a persistent
  // session's QoS 1 publishes for a resend on its own reconnect (which mq never uses): the queue must reject them.
  it.each([
    ['a clean session', {}],
    ['a persistent session', { cleanSession: false, clientId: `mq-test-${uniqueId('drop')}` }],
  ])(
    'with %s, reliable sends in flight when the link drops all settle at once: resolved, or rejected with CONNECTION_LOST',
    async (_session, options) => {
      const name = queueName('drop');
      await receiver(await connection(), { name, reliable: true });
      const conn = await connection({ reconnectMillis: 200, ...options });
      const send = await sender(conn, { name, reliable: true, sendTimeoutMillis: 20_000 });
      const sends = Array.from({ length: 500 }, (_, i) => send.sendMsg(Buffer.alloc(1024, i)));
      conn.simulateDrop();
      const started = Date.now();
      const outcomes = await Promise.allSettled(sends);
      expect(Date.now() - started).toBeLessThan(2000);
      const rejected = outcomes.filter((o) => o.status === 'rejected');
      expect(rejected.length).toBeGreaterThan(0);
      for (const outcome of rejected) expect(MqError.hasCode(outcome.reason, 'CONNECTION_LOST')).toBe(true);
    },
  );

  it('with sendBufferMessages 0, sends while disconnected reject with NOT_CONNECTED instead of waiting', async () => {
    const name = queueName('offline');
    // A receiver, so that the send after the reconnect is not discarded for want of one (NO_RECEIVER).
    await receiver(await connection(), { name, reliable: true });
    const conn = await connection({ reconnectMillis: 500 });
    const send = await sender(conn, { name, reliable: true, sendBufferMessages: 0 });
    conn.simulateDrop();
    await waitForStatus(send, 'disconnected');
    await expect(send.sendMsg(Buffer.from('x'))).rejects.toMatchObject({ code: 'NOT_CONNECTED' });
    await waitForStatus(send, 'connected');
    await send.sendMsg(Buffer.from('y'));
  });
});
