import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MqError } from '../src/spi/index.js';
import { flush, ScriptedConnection } from './fixtures.js';

// A connection that can never work must not fail in silence when nobody listens for its errors.
beforeEach(() => {
  vi.useFakeTimers();
  vi.spyOn(Math, 'random').mockReturnValue(0);
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Closes `conn`, failing the attempt it has under way. */
async function close(conn: ScriptedConnection): Promise<void> {
  const closing = conn.close();
  conn.lastOpen.reject(new Error('closed'));
  await closing;
}

const auth = (): MqError => new MqError('AUTH_FAILED', '[mq/test] the broker refused user guest');

async function failTimes(conn: ScriptedConnection, times: number, error: () => Error): Promise<void> {
  for (let i = 0; i < times; i += 1) {
    conn.lastOpen.reject(error());
    await flush();
    await vi.advanceTimersByTimeAsync(1000);
  }
}

describe('a connection failure that needs attention, with no error listener', () => {
  it('prints one MqConnectionWarning per connection, however often it fails', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const conn = new ScriptedConnection();
    conn.connect();
    await failTimes(conn, 3, auth);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(
      /\[mq\/test\] .*AUTH_FAILED: .*refused user guest.*nothing listens/,
    );
    expect(warn.mock.calls[0]?.[1]).toBe('MqConnectionWarning');
    const second = new ScriptedConnection();
    second.connect();
    await failTimes(second, 1, () => new MqError('VHOST_REFUSED', '[mq/test] no such vhost'));
    expect(warn).toHaveBeenCalledTimes(2);
    await close(conn);
    await close(second);
  });

  it('prints nothing when an error listener hears it, or when the failure is one retrying can fix', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const heard = new ScriptedConnection();
    heard.on('error', () => {});
    heard.connect();
    await failTimes(heard, 2, auth);
    const transient = new ScriptedConnection();
    transient.connect();
    await failTimes(transient, 2, () => new MqError('UNREACHABLE', '[mq/test] refused'));
    expect(warn).not.toHaveBeenCalled();
    await close(heard);
    await close(transient);
  });
});
