import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MqError, SettleOnceMessage } from '../src/spi/index.js';
import { flush, ScriptedConnection, ScriptedQueue } from './fixtures.js';

// Sends that wait for the link, and close() bounded by closeTimeoutMillis, on the scripted backend: the test
// settles every open and moves the clock.
beforeEach(() => {
  vi.useFakeTimers();
  vi.spyOn(Math, 'random').mockReturnValue(0);
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

async function connectedConnection(): Promise<ScriptedConnection> {
  const conn = new ScriptedConnection();
  conn.on('error', () => {});
  conn.connect();
  conn.lastOpen.resolve();
  await flush();
  return conn;
}

/** The outcome of `promise` as it stands: `pending`, `resolved`, or the rejection's code. */
function track(promise: Promise<void>): { readonly outcome: string } {
  const state = { outcome: 'pending' };
  promise.then(
    () => {
      state.outcome = 'resolved';
    },
    (error: unknown) => {
      state.outcome = MqError.isInstance(error) ? error.code : String(error);
    },
  );
  return state;
}

describe('sends wait for the link', () => {
  it('a send right after connect() waits for the queue and goes to the driver once it is connected, before any send a connected listener makes', async () => {
    const conn = await connectedConnection();
    const queue = new ScriptedQueue(conn);
    queue.connect();
    const early = track(queue.sendMsg(Buffer.from('early')));
    queue.on('status', (status) => {
      if (status === 'connected') void queue.sendMsg(Buffer.from('listener')).catch(() => {});
    });
    await flush();
    expect(queue.sends).toHaveLength(0);
    expect(early.outcome).toBe('pending');
    queue.lastOpen.resolve();
    await flush();
    expect(queue.sends).toHaveLength(2);
    for (const send of queue.sends) send.resolve();
    await flush();
    expect(early.outcome).toBe('resolved');
    await conn.close();
  });

  it('sends made during a drop go out when the link is back, and a drop does not fail them', async () => {
    const conn = await connectedConnection();
    const queue = new ScriptedQueue(conn);
    queue.connect();
    queue.lastOpen.resolve();
    await flush();
    conn.drop();
    expect(queue.status).toBe('disconnected');
    const during = [track(queue.sendMsg(Buffer.from('a'))), track(queue.sendMsg(Buffer.from('b')))];
    // Another loss while they wait does not touch them: they were never sent.
    await vi.advanceTimersByTimeAsync(100);
    conn.lastOpen.reject(new Error('still down'));
    await flush();
    expect(during.map((s) => s.outcome)).toEqual(['pending', 'pending']);
    await vi.advanceTimersByTimeAsync(200);
    conn.lastOpen.resolve();
    await flush();
    queue.lastOpen.resolve();
    await flush();
    expect(queue.sends).toHaveLength(2);
    for (const send of queue.sends) send.resolve();
    await flush();
    expect(during.map((s) => s.outcome)).toEqual(['resolved', 'resolved']);
    await conn.close();
  });

  it('a send waiting for the link rejects with TIMEOUT at its sendTimeoutMillis, counted from sendMsg(), and is never sent later', async () => {
    const conn = await connectedConnection();
    const queue = new ScriptedQueue(conn, { sendTimeoutMillis: 1000 });
    queue.connect();
    const send = queue.sendMsg(Buffer.from('x'));
    const state = track(send);
    await vi.advanceTimersByTimeAsync(999);
    expect(state.outcome).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(state.outcome).toBe('TIMEOUT');
    await expect(send).rejects.toThrow(
      /not connected within 1000 ms \(sendTimeoutMillis\): message not sent/,
    );
    queue.lastOpen.resolve();
    await flush();
    expect(queue.sends).toHaveLength(0);
    await conn.close();
  });

  it('past sendBufferMessages or sendBufferBytes a send rejects at once with NOT_CONNECTED; room frees as waiting sends time out', async () => {
    const conn = await connectedConnection();
    const queue = new ScriptedQueue(conn, { sendBufferMessages: 2, sendBufferBytes: 10 });
    queue.connect();
    const first = track(queue.sendMsg(Buffer.alloc(4)));
    const second = track(queue.sendMsg(Buffer.alloc(4)));
    const third = track(queue.sendMsg(Buffer.alloc(1)));
    await flush();
    expect([first.outcome, second.outcome, third.outcome]).toEqual(['pending', 'pending', 'NOT_CONNECTED']);
    await vi.advanceTimersByTimeAsync(1000);
    expect([first.outcome, second.outcome]).toEqual(['TIMEOUT', 'TIMEOUT']);
    const big = track(queue.sendMsg(Buffer.alloc(11)));
    const fits = track(queue.sendMsg(Buffer.alloc(10)));
    await flush();
    expect([big.outcome, fits.outcome]).toEqual(['NOT_CONNECTED', 'pending']);
    const closing = conn.close();
    queue.lastOpen.reject(new Error('gave up'));
    await closing;
    expect(fits.outcome).toBe('CLOSED');
  });

  it('with sendBufferMessages 0 a send while not connected rejects at once with NOT_CONNECTED', async () => {
    const conn = await connectedConnection();
    const queue = new ScriptedQueue(conn, { sendBufferMessages: 0 });
    queue.connect();
    await expect(queue.sendMsg(Buffer.from('x'))).rejects.toMatchObject({ code: 'NOT_CONNECTED' });
    queue.lastOpen.reject(new Error('gave up'));
    await conn.close();
  });

  it('a closed queue never buffers: a send rejects at once with NOT_CONNECTED', async () => {
    const conn = await connectedConnection();
    const queue = new ScriptedQueue(conn);
    await expect(queue.sendMsg(Buffer.from('x'))).rejects.toMatchObject({ code: 'NOT_CONNECTED' });
    await conn.close();
  });

  it('close() rejects the sends waiting for the link with CLOSED at once', async () => {
    const conn = await connectedConnection();
    const queue = new ScriptedQueue(conn);
    queue.connect();
    const waiting = queue.sendMsg(Buffer.from('x'));
    const closing = queue.close();
    queue.lastOpen.reject(new Error('gave up'));
    await closing;
    await expect(waiting).rejects.toMatchObject({ code: 'CLOSED' });
    expect(queue.sends).toHaveLength(0);
    await conn.close();
  });

  it('sendBufferMessages and sendBufferBytes are validated', () => {
    const conn = new ScriptedConnection();
    expect(() => new ScriptedQueue(conn, { sendBufferMessages: -1 })).toThrow(
      /sendBufferMessages must be an integer from 0 to 1000000/,
    );
    expect(() => new ScriptedQueue(conn, { sendBufferBytes: 1.5 })).toThrow(/sendBufferBytes must be/);
    expect(() => new ScriptedQueue(conn, { closeTimeoutMillis: 0 })).toThrow(/closeTimeoutMillis must be/);
  });
});

describe('close() is bounded by closeTimeoutMillis', () => {
  it('a handler that never returns holds close() only until closeTimeoutMillis, which then reports what it abandoned', async () => {
    const conn = await connectedConnection();
    const queue = new ScriptedQueue(conn, {
      isRecv: true,
      closeTimeoutMillis: 5000,
      ackTimeoutMillis: 100,
    });
    const errors: MqError[] = [];
    queue.on('error', (error) => errors.push(error));
    queue.setMsgHandler(() => new Promise<void>(() => {}));
    queue.connect();
    queue.lastOpen.resolve();
    await flush();
    queue.deliver(new SettleOnceMessage(Buffer.from('stuck'), async () => {}));
    await flush();
    let closed = false;
    void queue.close().then(() => {
      closed = true;
    });
    await vi.advanceTimersByTimeAsync(4999);
    expect(closed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await flush();
    expect(closed).toBe(true);
    expect(queue.status).toBe('closed');
    expect(queue.calls.at(-1)).toBe('release');
    const timeout = errors.find((error) => error.code === 'TIMEOUT');
    expect(timeout?.message).toMatch(
      /gave up after 5000 ms \(closeTimeoutMillis\) on 1 handler still running/,
    );
    await conn.close();
  });

  it('sends still pending at closeTimeoutMillis reject with CLOSED and close() resolves', async () => {
    const conn = await connectedConnection();
    const queue = new ScriptedQueue(conn, { sendTimeoutMillis: 60_000, closeTimeoutMillis: 1000 });
    queue.on('error', () => {});
    queue.connect();
    queue.lastOpen.resolve();
    await flush();
    const send = track(queue.sendMsg(Buffer.from('x')));
    const closing = queue.close();
    await vi.advanceTimersByTimeAsync(1000);
    await closing;
    expect(send.outcome).toBe('CLOSED');
    await conn.close();
  });
});
