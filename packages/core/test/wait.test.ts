import { on, once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { MqError, type Status, TypedEmitter, waitForStatus } from '../src/spi/index.js';

class Source extends TypedEmitter<{ status: (s: Status) => void; error: (e: MqError) => void }> {
  status: Status = 'closed';
  set(next: Status): void {
    this.status = next;
    this.emit('status', next);
  }
  fail(error: MqError): void {
    this.emit('error', error);
  }
}

describe('waitForStatus', () => {
  it('resolves at once when the status is already there', async () => {
    await waitForStatus(new Source(), 'closed');
  });

  it('resolves when the status is reached and removes its listener', async () => {
    const source = new Source();
    const waiting = waitForStatus(source, 'connected');
    source.set('connecting');
    source.set('connected');
    await waiting;
    expect(source.listenerCount('status')).toBe(0);
  });

  it('rejects with TIMEOUT after the deadline', async () => {
    const error = await waitForStatus(new Source(), 'connected', { timeoutMillis: 10 }).catch(
      (e: unknown) => e,
    );
    expect(MqError.hasCode(error, 'TIMEOUT')).toBe(true);
  });

  it('rejects with ABORTED when the signal fires, and at once for an aborted signal', async () => {
    const controller = new AbortController();
    const waiting = waitForStatus(new Source(), 'connected', { signal: controller.signal });
    controller.abort();
    expect(MqError.hasCode(await waiting.catch((e: unknown) => e), 'ABORTED')).toBe(true);
    const again = await waitForStatus(new Source(), 'connected', { signal: controller.signal }).catch(
      (e: unknown) => e,
    );
    expect(MqError.hasCode(again, 'ABORTED')).toBe(true);
  });
});

describe('waitForStatus validates its arguments', () => {
  it.each([
    ['an unknown status', () => waitForStatus(new Source(), 'bogus' as never)],
    ['a negative timeout', () => waitForStatus(new Source(), 'connected', { timeoutMillis: -1 })],
    ['a NaN timeout', () => waitForStatus(new Source(), 'connected', { timeoutMillis: Number.NaN })],
    ['a string timeout', () => waitForStatus(new Source(), 'connected', { timeoutMillis: 'x' as never })],
    [
      'a signal that is not an AbortSignal',
      () => waitForStatus(new Source(), 'connected', { signal: {} as never }),
    ],
    ['a source without on/off', () => waitForStatus({ status: 'closed' } as never, 'connected')],
    ['null options', () => waitForStatus(new Source(), 'connected', null as never)],
  ])('rejects %s with INVALID_ARGUMENT', async (_what, wait) => {
    const error = await wait().catch((e: unknown) => e);
    expect(MqError.hasCode(error, 'INVALID_ARGUMENT')).toBe(true);
  });

  it('waits without a deadline when timeoutMillis is Infinity', async () => {
    const source = new Source();
    const waiting = waitForStatus(source, 'connected', { timeoutMillis: Number.POSITIVE_INFINITY });
    source.set('connecting');
    source.set('connected');
    await waiting;
  });
});

describe('TypedEmitter', () => {
  it('drops an error with no listener instead of throwing', () => {
    expect(() => new Source().fail(new MqError('BROKER', 'nobody listens'))).not.toThrow();
  });

  it('turns a throwing listener into a process warning', async () => {
    const source = new Source();
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
    source.on('status', () => {
      throw new Error('listener bug');
    });
    expect(() => source.set('connecting')).not.toThrow();
    expect((await warned).message).toContain('listener bug');
  });

  it('calls once-listeners once', () => {
    const source = new Source();
    const seen: Status[] = [];
    source.once('status', (s) => seen.push(s));
    source.set('connecting');
    source.set('connected');
    expect(seen).toEqual(['connecting']);
  });

  it('works with node:events on(): the loop sees every status, and break or the signal ends it, leaving no listener', async () => {
    const source = new Source();
    const seen: Status[] = [];
    setImmediate(() => {
      source.set('connecting');
      source.set('connected');
    });
    for await (const [status] of on(source as never, 'status')) {
      seen.push(status as Status);
      if (status === 'connected') break;
    }
    expect(seen).toEqual(['connecting', 'connected']);
    expect(source.listenerCount('status')).toBe(0);
    const controller = new AbortController();
    setImmediate(() => controller.abort());
    await expect(async () => {
      for await (const _ of on(source as never, 'status', { signal: controller.signal })) {
        // nothing comes
      }
    }).rejects.toMatchObject({ name: 'AbortError' });
    expect(source.listenerCount('status')).toBe(0);
    expect(source.listenerCount('error')).toBe(0);
  });

  it('works with node:events once(), and an error event ends an on() loop by throwing it, as Node documents', async () => {
    const source = new Source();
    setImmediate(() => source.set('connecting'));
    expect(await once(source as never, 'status')).toEqual(['connecting']);
    const failure = new MqError('BROKER', 'link lost');
    setImmediate(() => source.fail(failure));
    await expect(async () => {
      for await (const _ of on(source as never, 'status')) {
        // the error comes first
      }
    }).rejects.toBe(failure);
    expect(source.listenerCount('error')).toBe(0);
  });
});
