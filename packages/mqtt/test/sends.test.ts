import { MqError, waitForStatus } from '@mq/core';
import { describe, expect, it } from 'vitest';
import { connection, queueName, receiver, sender } from './helpers.js';

describe('sends', () => {
  it('reliable sends in flight when the link drops all settle: resolved, or rejected with CONNECTION_LOST', async () => {
    const name = queueName('drop');
    await receiver(await connection(), { name, reliable: true });
    const conn = await connection({ reconnectMillis: 200 });
    const send = await sender(conn, { name, reliable: true });
    const sends = Array.from({ length: 500 }, (_, i) => send.sendMsg(Buffer.alloc(1024, i)));
    conn.simulateDrop();
    const started = Date.now();
    const outcomes = await Promise.allSettled(sends);
    expect(Date.now() - started).toBeLessThan(2000);
    const rejected = outcomes.filter((o) => o.status === 'rejected');
    expect(rejected.length).toBeGreaterThan(0);
    for (const outcome of rejected) expect(MqError.hasCode(outcome.reason, 'CONNECTION_LOST')).toBe(true);
  });

  it('sends while disconnected reject with NOT_CONNECTED instead of queueing', async () => {
    const conn = await connection({ reconnectMillis: 500 });
    const send = await sender(conn, { name: queueName('offline'), reliable: true });
    conn.simulateDrop();
    await waitForStatus(send, 'disconnected');
    await expect(send.sendMsg(Buffer.from('x'))).rejects.toMatchObject({ code: 'NOT_CONNECTED' });
    await waitForStatus(send, 'connected');
    await send.sendMsg(Buffer.from('y'));
  });
});
