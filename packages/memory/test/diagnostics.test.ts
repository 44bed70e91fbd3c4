import {
  ERROR_CHANNEL,
  type ErrorEvent,
  PROCESS_CHANNEL,
  type ProcessTrace,
  SEND_CHANNEL,
  type SendTrace,
  STATUS_CHANNEL,
  type StatusEvent,
  waitForStatus,
} from '@mq/core';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryConnection, MemoryQueue } from '../src/index.js';

// The node:diagnostics_channel channels core reports on, seen end to end through the in-process broker.
const unsubscribe: Array<() => void> = [];
afterEach(() => {
  for (const off of unsubscribe.splice(0)) off();
});

function on<T>(
  name: 'start' | 'end' | 'asyncEnd' | 'error',
  channel: typeof SEND_CHANNEL | typeof PROCESS_CHANNEL,
  seen: T[],
): void {
  const handlers = { [name]: (context: unknown) => seen.push(context as T) };
  channel.subscribe(handlers as never);
  unsubscribe.push(() => channel.unsubscribe(handlers as never));
}

async function pair(): Promise<{
  conn: MemoryConnection;
  send: MemoryQueue;
  recv: MemoryQueue;
  got: string[];
}> {
  const conn = new MemoryConnection({ uri: `memory://diag-${Math.random().toString(36).slice(2, 10)}` });
  conn.connect();
  const name = 'traced';
  const got: string[] = [];
  const recv = new MemoryQueue({ name, isRecv: true, reliable: true }, conn);
  recv.setMsgHandler(async (_queue, message) => {
    got.push(message.headers.traceparent ?? 'none');
    if (message.payload.toString() === 'fail') throw new Error('handler bug');
    await message.ack();
  });
  recv.on('error', () => {});
  recv.connect();
  const send = new MemoryQueue({ name, isRecv: false, reliable: true }, conn);
  send.connect();
  await waitForStatus(send, 'connected');
  await waitForStatus(recv, 'connected');
  return { conn, send, recv, got };
}

describe('diagnostics channels', () => {
  it('mq:send lets a start subscriber add headers, which reach the receiver; mq:process wraps the handler run', async () => {
    const starts: SendTrace[] = [];
    const ends: SendTrace[] = [];
    const processed: ProcessTrace[] = [];
    const failed: ProcessTrace[] = [];
    const inject = {
      start: (context: SendTrace) => {
        starts.push(context);
        context.options.headers.traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      },
    };
    SEND_CHANNEL.subscribe(inject as never);
    unsubscribe.push(() => SEND_CHANNEL.unsubscribe(inject as never));
    on('asyncEnd', SEND_CHANNEL, ends);
    on('start', PROCESS_CHANNEL, processed);
    on('error', PROCESS_CHANNEL, failed);
    const { conn, send, got } = await pair();
    await send.sendMsg(Buffer.from('hello'), { messageId: 'm-1' });
    await send.sendMsg(Buffer.from('fail'));
    await expect.poll(() => got.length).toBe(2);
    await expect.poll(() => failed.length).toBe(1);
    expect(got).toEqual([
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    ]);
    expect(starts[0]).toMatchObject({
      backend: 'mq/memory',
      destination: 'traced',
      broadcast: false,
      reliable: true,
      payloadSize: 5,
      carriesMetadata: true,
      options: { messageId: 'm-1' },
    });
    expect(ends.length).toBe(2);
    expect(processed.map((p) => [p.destination, p.payloadSize, p.message.messageId])).toEqual([
      ['traced', 5, 'm-1'],
      ['traced', 4, undefined],
    ]);
    expect(failed[0]?.error).toMatchObject({ message: 'handler bug' });
    await conn.close();
  });

  it('a send that rejects ends in the error event of mq:send', async () => {
    const errors: SendTrace[] = [];
    on('error', SEND_CHANNEL, errors);
    const { conn, send } = await pair();
    await send.close();
    await expect(send.sendMsg(Buffer.from('late'))).rejects.toMatchObject({ code: 'NOT_CONNECTED' });
    expect(errors.map((e) => (e.error as { code?: string }).code)).toEqual(['NOT_CONNECTED']);
    await conn.close();
  });

  it('mq:status and mq:error report every status change and error, and nothing once unsubscribed', async () => {
    const statuses: StatusEvent[] = [];
    const errors: ErrorEvent[] = [];
    const onStatus = (event: unknown): void => {
      statuses.push(event as StatusEvent);
    };
    const onError = (event: unknown): void => {
      errors.push(event as ErrorEvent);
    };
    STATUS_CHANNEL.subscribe(onStatus);
    ERROR_CHANNEL.subscribe(onError);
    const { conn, send } = await pair();
    await send.sendMsg(Buffer.from('fail'));
    await expect.poll(() => errors.length).toBe(1);
    expect(errors[0]).toMatchObject({ kind: 'queue', name: 'traced', error: { code: 'HANDLER_FAILED' } });
    expect(statuses.filter((e) => e.kind === 'connection').map((e) => e.status)).toEqual([
      'connecting',
      'connected',
    ]);
    expect(statuses.filter((e) => e.kind === 'queue' && e.source === send).map((e) => e.status)).toEqual([
      'connecting',
      'connected',
    ]);
    STATUS_CHANNEL.unsubscribe(onStatus);
    ERROR_CHANNEL.unsubscribe(onError);
    const before = statuses.length;
    await conn.close();
    expect(statuses.length).toBe(before);
  });
});

describe('a failing handler nobody listens to', () => {
  it('warns once on the process (MqHandlerWarning), however often it fails, and crashes nothing', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      if (warning.name === 'MqHandlerWarning') warnings.push(warning);
    };
    process.on('warning', onWarning);
    try {
      const conn = new MemoryConnection({ uri: `memory://warn-${Math.random().toString(36).slice(2, 10)}` });
      conn.connect();
      let runs = 0;
      const recv = new MemoryQueue({ name: 'unheard', isRecv: true }, conn);
      recv.setMsgHandler(() => {
        runs += 1;
        throw new Error('bug in the handler');
      });
      recv.connect();
      const send = new MemoryQueue({ name: 'unheard', isRecv: false }, conn);
      send.connect();
      await waitForStatus(send, 'connected');
      for (let i = 0; i < 3; i += 1) await send.sendMsg(Buffer.from(`m${i}`));
      await expect.poll(() => runs).toBe(3);
      await expect.poll(() => warnings.length).toBe(1);
      expect(warnings[0]?.message).toMatch(
        /the message handler of queue 'unheard' failed and nothing listens for its 'error' events.*bug in the handler/,
      );
      await conn.close();
    } finally {
      process.off('warning', onWarning);
    }
  });
});
