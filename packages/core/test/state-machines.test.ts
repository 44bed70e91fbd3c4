import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MqError, type Status } from '../src/spi/index.js';
import { flush, ScriptedConnection, ScriptedQueue } from './fixtures.js';

// BaseConnection and BaseQueue driven step by step: the test settles every open and moves the clock, so each
// interleaving below happens exactly, every run.
beforeEach(() => {
  vi.useFakeTimers();
  vi.spyOn(Math, 'random').mockReturnValue(0);
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

function record(source: { on(event: 'status', listener: (status: Status) => void): unknown }): Status[] {
  const seen: Status[] = [];
  source.on('status', (status) => seen.push(status));
  return seen;
}

async function connectedConnection(): Promise<ScriptedConnection> {
  const conn = new ScriptedConnection();
  conn.on('error', () => {});
  conn.connect();
  conn.lastOpen.resolve();
  await flush();
  expect(conn.status).toBe('connected');
  return conn;
}

async function connectedQueue(conn: ScriptedConnection, options = {}): Promise<ScriptedQueue> {
  const queue = new ScriptedQueue(conn, options);
  queue.on('error', () => {});
  queue.connect();
  queue.lastOpen.resolve();
  await flush();
  expect(queue.status).toBe('connected');
  return queue;
}

describe('BaseConnection retries', () => {
  it('backs off after each failed attempt (100, 200, 400, 800, 800 ms) and says when the next comes', async () => {
    const conn = new ScriptedConnection(100, 800);
    const errors: MqError[] = [];
    conn.on('error', (error) => errors.push(error));
    conn.connect();
    const gaps: number[] = [];
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      conn.lastOpen.reject(new Error('refused'));
      await flush();
      expect(conn.status).toBe('disconnected');
      const before = conn.opens.length;
      let waited = 0;
      while (conn.opens.length === before) {
        await vi.advanceTimersByTimeAsync(10);
        waited += 10;
      }
      gaps.push(waited);
    }
    expect(gaps).toEqual([100, 200, 400, 800, 800]);
    expect(errors.map((error) => error.message.match(/reconnecting in (\d+) ms/)?.[1])).toEqual([
      '100',
      '200',
      '400',
      '800',
      '800',
    ]);
    // close() waits for the attempt under way (a backend bounds it by connectTimeoutMillis).
    const closing = conn.close();
    conn.lastOpen.reject(new Error('refused'));
    await closing;
    expect(conn.status).toBe('closed');
  });

  it('retries after reconnectMillis when a link that stayed up 10 s drops, and keeps backing off while links drop young', async () => {
    const conn = await connectedConnection();
    const retryAfterDrop = async (): Promise<number> => {
      conn.drop();
      const before = conn.opens.length;
      let waited = 0;
      while (conn.opens.length === before) {
        await vi.advanceTimersByTimeAsync(10);
        waited += 10;
      }
      conn.lastOpen.resolve();
      await flush();
      return waited;
    };
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await retryAfterDrop()).toBe(100);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await retryAfterDrop()).toBe(200);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await retryAfterDrop()).toBe(400);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await retryAfterDrop()).toBe(100);
    await conn.close();
  });

  it('close() during an attempt waits for it, never reports connected, and closes the link', async () => {
    const conn = new ScriptedConnection();
    const seen = record(conn);
    conn.connect();
    const closing = conn.close();
    expect(conn.status).toBe('closing');
    conn.lastOpen.resolve();
    await closing;
    expect(seen).toEqual(['connecting', 'closing', 'closed']);
    expect(conn.closes).toBe(1);
  });

  it('close() while a retry is pending cancels it: no attempt after closed', async () => {
    const conn = new ScriptedConnection();
    conn.on('error', () => {});
    conn.connect();
    conn.lastOpen.reject(new Error('refused'));
    await flush();
    await conn.close();
    await vi.advanceTimersByTimeAsync(5000);
    expect(conn.opens).toHaveLength(1);
    expect(conn.status).toBe('closed');
  });
});

describe('BaseConnection addresses', () => {
  it('moves on to the next address after each failed attempt and each lost link, round robin, and says where it goes', async () => {
    const conn = new ScriptedConnection(100, 800, ['x://a', 'x://b', 'x://c']);
    const errors: MqError[] = [];
    conn.on('error', (error) => errors.push(error));
    const tried: (string | undefined)[] = [];
    conn.connect();
    tried.push(conn.address);
    const next = async (): Promise<void> => {
      const before = conn.opens.length;
      while (conn.opens.length === before) await vi.advanceTimersByTimeAsync(10);
      tried.push(conn.address);
    };
    conn.lastOpen.reject(new Error('refused'));
    await next();
    conn.lastOpen.resolve();
    await flush();
    expect(conn.status).toBe('connected');
    conn.drop();
    await next();
    conn.lastOpen.reject(new Error('refused'));
    await next();
    expect(tried).toEqual(['x://a', 'x://b', 'x://c', 'x://a']);
    expect(errors.map((error) => error.message.replace(/.*; /, ''))).toEqual([
      'reconnecting to x://b in 100 ms',
      'reconnecting to x://c in 200 ms',
      'reconnecting to x://a in 400 ms',
    ]);
    expect(conn.addresses).toEqual(['x://a', 'x://b', 'x://c']);
    const closing = conn.close();
    conn.lastOpen.reject(new Error('refused'));
    await closing;
    // Opened again, it starts over at the first address.
    conn.connect();
    expect(conn.address).toBe('x://a');
    const again = conn.close();
    conn.lastOpen.resolve();
    await again;
  });

  it('with one address (or none given) stays on it and says nothing of where', async () => {
    const conn = new ScriptedConnection(100, 800);
    const errors: MqError[] = [];
    conn.on('error', (error) => errors.push(error));
    conn.connect();
    expect(conn.address).toBeUndefined();
    conn.lastOpen.reject(new Error('refused'));
    await flush();
    expect(errors[0]?.message).toMatch(/; reconnecting in 100 ms$/);
    await conn.close();
  });
});

describe('failures that need attention', () => {
  it('a queue whose open keeps failing the same way that no retry fixes reports it once, backs off 100, 200, 400 ms, and reports again once it changes', async () => {
    const conn = await connectedConnection();
    const queue = new ScriptedQueue(conn);
    const errors: MqError[] = [];
    queue.on('error', (error) => errors.push(error));
    queue.connect();
    const gaps: number[] = [];
    const refuse = new MqError('INVALID_OPTIONS', "[mq/test] queue 'q' exists with other arguments");
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      queue.lastOpen.reject(attempt < 4 ? refuse : new Error('channel closed'));
      await flush();
      if (attempt === 4) break;
      const before = queue.opens.length;
      let waited = 0;
      while (queue.opens.length === before) {
        await vi.advanceTimersByTimeAsync(10);
        waited += 10;
      }
      gaps.push(waited);
    }
    expect(gaps).toEqual([100, 200, 400]);
    expect(errors.map((e) => e.code)).toEqual(['INVALID_OPTIONS', 'BROKER']);
    expect(queue.lastError?.code).toBe('BROKER');
    await queue.close();
    await conn.close();
  });

  it('a queue that is not there yet (NOT_FOUND) is reported once while retries go on, and a messages() loop keeps waiting for it', async () => {
    const conn = await connectedConnection();
    const queue = new ScriptedQueue(conn, { isRecv: true });
    const errors: MqError[] = [];
    queue.on('error', (error) => errors.push(error));
    const loop = queue.messages();
    const first = loop.next();
    let ended = false;
    void first.then(
      () => {
        ended = true;
      },
      () => {
        ended = true;
      },
    );
    const missing = new MqError('NOT_FOUND', "[mq/test] queue 'q' does not exist on the broker");
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const before = queue.opens.length;
      queue.lastOpen.reject(missing);
      await flush();
      while (queue.opens.length === before) await vi.advanceTimersByTimeAsync(10);
    }
    expect(errors.map((e) => e.code)).toEqual(['NOT_FOUND']);
    expect(ended).toBe(false);
    queue.lastOpen.resolve();
    await flush();
    expect(queue.status).toBe('connected');
    await loop.return?.();
    await queue.close();
    await conn.close();
  });

  it('with several addresses, each address reports its refusal once, however the attempts rotate', async () => {
    const conn = new ScriptedConnection(100, 800, ['x://a', 'x://b', 'x://c']);
    const errors: MqError[] = [];
    conn.on('error', (error) => errors.push(error));
    conn.connect();
    for (let attempt = 0; attempt < 9; attempt += 1) {
      conn.lastOpen.reject(new MqError('AUTH_FAILED', `[mq/test] ${conn.address} refused user guest`));
      const before = conn.opens.length;
      while (conn.opens.length === before) await vi.advanceTimersByTimeAsync(10);
    }
    expect(errors.map((e) => e.message.replace(/;.*/, ''))).toEqual([
      '[mq/test] x://a refused user guest',
      '[mq/test] x://b refused user guest',
      '[mq/test] x://c refused user guest',
    ]);
    const closing = conn.close();
    conn.lastOpen.reject(new Error('refused'));
    await closing;
  });

  it('a connection reports a refusal once per change, and forgets it once connected', async () => {
    const conn = new ScriptedConnection(100, 800);
    const errors: MqError[] = [];
    conn.on('error', (error) => errors.push(error));
    conn.connect();
    const auth = (): MqError => new MqError('AUTH_FAILED', '[mq/test] refused user guest');
    const next = async (): Promise<void> => {
      const before = conn.opens.length;
      while (conn.opens.length === before) await vi.advanceTimersByTimeAsync(10);
    };
    conn.lastOpen.reject(auth());
    await next();
    conn.lastOpen.reject(auth());
    await next();
    expect(errors.length).toBe(1);
    expect(conn.lastError?.code).toBe('AUTH_FAILED');
    conn.lastOpen.resolve();
    await flush();
    expect(conn.lastError).toBeUndefined();
    conn.drop();
    await next();
    conn.lastOpen.reject(auth());
    await flush();
    expect(errors.map((e) => e.code)).toEqual(['AUTH_FAILED', 'BROKER', 'AUTH_FAILED']);
    await conn.close();
  });
});

describe('BaseQueue', () => {
  it('an open that straddles a connection loss is not trusted: the queue waits for the new link and opens again', async () => {
    const conn = await connectedConnection();
    const queue = new ScriptedQueue(conn);
    queue.on('error', () => {});
    const seen = record(queue);
    queue.connect();
    const stale = queue.lastOpen;
    conn.drop();
    expect(queue.status).toBe('disconnected');
    stale.resolve();
    await flush();
    // Opened on the dead link: forgotten, not reported connected.
    expect(queue.status).toBe('disconnected');
    expect(queue.calls).toEqual(['open', 'onLinkDown', 'onLinkDown']);
    await vi.advanceTimersByTimeAsync(100);
    conn.lastOpen.resolve();
    await flush();
    expect(queue.opens).toHaveLength(2);
    queue.lastOpen.resolve();
    await flush();
    expect(seen).toEqual(['connecting', 'disconnected', 'connecting', 'connected']);
    await conn.close();
  });

  it('a lost channel (connection up) reopens after reconnectMillis; a connection loss meanwhile cancels that retry', async () => {
    const conn = await connectedConnection();
    const queue = await connectedQueue(conn);
    const errors: MqError[] = [];
    queue.on('error', (error) => errors.push(error));
    queue.lose();
    // Core waits one turn of the event loop: a connection loss in the same tick would win.
    expect(queue.status).toBe('connected');
    await vi.advanceTimersByTimeAsync(0);
    expect(queue.status).toBe('disconnected');
    expect(errors).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(queue.opens).toHaveLength(2);
    queue.lastOpen.reject(new Error('still refused'));
    await flush();
    // The connection drops while the queue waits to retry: the queue waits for the connection instead.
    conn.drop();
    await vi.advanceTimersByTimeAsync(99);
    expect(queue.opens).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    conn.lastOpen.resolve();
    await flush();
    expect(queue.opens).toHaveLength(3);
    queue.lastOpen.resolve();
    await flush();
    expect(queue.status).toBe('connected');
    await conn.close();
  });

  it('a channel loss reported just before its connection loss (same tick) counts as the connection loss', async () => {
    const conn = await connectedConnection();
    const queue = await connectedQueue(conn);
    const errors: MqError[] = [];
    queue.on('error', (error) => errors.push(error));
    const seen = record(queue);
    // The order a dying amqplib connection reports in: its channels close, then the connection.
    queue.lose(new Error('channel closed'));
    conn.drop(new Error('socket closed'));
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toEqual(['disconnected']);
    expect(queue.calls.filter((call) => call === 'onLinkDown')).toHaveLength(1);
    expect(errors).toEqual([]);
    // No reopen on the dead link: the queue waits for the connection to come back.
    await vi.advanceTimersByTimeAsync(100);
    expect(queue.opens).toHaveLength(1);
    conn.lastOpen.resolve();
    await flush();
    expect(queue.opens).toHaveLength(2);
    queue.lastOpen.resolve();
    await flush();
    expect(queue.status).toBe('connected');
    await conn.close();
  });

  it('a send the backend never settles rejects with TIMEOUT exactly at sendTimeoutMillis, and close() then resolves', async () => {
    const conn = await connectedConnection();
    const queue = await connectedQueue(conn, { sendTimeoutMillis: 1000 });
    let outcome: unknown = 'pending';
    queue.sendMsg(Buffer.from('x')).then(
      () => {
        outcome = 'resolved';
      },
      (error: unknown) => {
        outcome = error;
      },
    );
    await vi.advanceTimersByTimeAsync(999);
    expect(outcome).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(MqError.hasCode(outcome, 'TIMEOUT')).toBe(true);
    await conn.close();
    expect(queue.status).toBe('closed');
  });

  it('a connection loss rejects every send in flight with CONNECTION_LOST at once', async () => {
    const conn = await connectedConnection();
    const queue = await connectedQueue(conn);
    const sends = [queue.sendMsg(Buffer.from('a')), queue.sendMsg(Buffer.from('b'))];
    conn.drop();
    const outcomes = await Promise.allSettled(sends);
    expect(outcomes.map((o) => o.status === 'rejected' && (o.reason as MqError).code)).toEqual([
      'CONNECTION_LOST',
      'CONNECTION_LOST',
    ]);
    await conn.close();
  });

  it('close() during open waits for it, then stops receiving and releases, in that order', async () => {
    const conn = await connectedConnection();
    const queue = new ScriptedQueue(conn);
    const seen = record(queue);
    queue.connect();
    const closing = queue.close();
    queue.lastOpen.resolve();
    await closing;
    expect(queue.calls).toEqual(['open', 'stopReceiving', 'release']);
    expect(seen).toEqual(['connecting', 'closing', 'closed']);
    await conn.close();
  });
});

describe('status events', () => {
  it('a listener that closes the connection on disconnected: every listener sees disconnected, then closing, then closed, and no retry is left', async () => {
    const conn = new ScriptedConnection();
    conn.on('error', () => {});
    conn.on('status', (status) => {
      if (status === 'disconnected') void conn.close();
    });
    const seen = record(conn);
    conn.connect();
    conn.lastOpen.reject(new Error('refused'));
    await flush();
    expect(seen).toEqual(['connecting', 'disconnected', 'closing', 'closed']);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(5000);
    expect(conn.opens).toHaveLength(1);
  });

  it('a listener that closes the queue on disconnected: later listeners still see the statuses in order', async () => {
    const conn = await connectedConnection();
    const queue = await connectedQueue(conn);
    queue.on('status', (status) => {
      if (status === 'disconnected') void queue.close();
    });
    const seen = record(queue);
    queue.lose();
    await vi.advanceTimersByTimeAsync(0);
    await flush();
    expect(seen).toEqual(['disconnected', 'closing', 'closed']);
    await vi.advanceTimersByTimeAsync(1000);
    expect(queue.opens).toHaveLength(1);
    await conn.close();
  });
});

describe('error listeners that close', () => {
  it('closing the connection from its error listener on a failed attempt: close() resolves, no disconnected after closing, no retry', async () => {
    const conn = new ScriptedConnection();
    let closing: Promise<void> | undefined;
    conn.on('error', () => {
      closing = conn.close();
    });
    const seen = record(conn);
    conn.connect();
    conn.lastOpen.reject(new Error('refused'));
    await flush();
    await closing;
    expect(seen).toEqual(['connecting', 'closing', 'closed']);
    await vi.advanceTimersByTimeAsync(5000);
    expect(conn.opens).toHaveLength(1);
  });

  it('closing the queue from its error listener when its resources die: it ends closed, never disconnected', async () => {
    const conn = await connectedConnection();
    const queue = await connectedQueue(conn);
    let closing: Promise<void> | undefined;
    queue.on('error', () => {
      closing = queue.close();
    });
    const seen = record(queue);
    queue.lose();
    await vi.advanceTimersByTimeAsync(0);
    await closing;
    expect(seen).toEqual(['closing', 'closed']);
    await conn.close();
  });
});
