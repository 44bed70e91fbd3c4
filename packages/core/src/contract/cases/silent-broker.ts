import type { Connection } from '../../api/connection.js';
import { check, checkCode, checkEqual } from '../assert.js';
import type { ContractContext } from '../context.js';
import { TcpProxy } from '../proxy.js';
import type { ContractCase } from '../types.js';
import { defineCase } from './define.js';

/** Milliseconds a close may take against a silent broker (connect timeouts bound it; these cases set 1 s). */
const CLOSE_BOUND_MILLIS = 5_000;

/** A connected connection that reaches the broker through a proxy the case can freeze. */
async function throughProxy(ctx: ContractContext): Promise<{ proxy: TcpProxy; conn: Connection }> {
  const fault = ctx.target.faults?.silentBroker;
  check(fault, 'silentBroker fault');
  const proxy = await TcpProxy.start(fault.address);
  ctx.defer(() => proxy.close());
  const conn = ctx.newConnection(fault.connectionOptions(proxy.port));
  conn.on('error', () => {});
  conn.connect();
  await ctx.waitStatus(conn, 'connected');
  return { proxy, conn };
}

async function closesInTime(ctx: ContractContext, conn: Connection): Promise<void> {
  const started = Date.now();
  await conn.close();
  checkEqual(conn.status, 'closed', 'connection status');
  const took = Date.now() - started;
  const bound = CLOSE_BOUND_MILLIS * (ctx.target.timeScale ?? 1);
  check(took < bound, `close() took ${took} ms against a silent broker (bound ${bound} ms)`);
}

/** A broker that stops answering without closing the socket: every promise must still settle. */
export const silentBrokerCases: ContractCase[] = [
  defineCase(
    'close',
    'silent-broker-send',
    'when the broker goes silent, a reliable send rejects with TIMEOUT after sendTimeoutMillis and close() still resolves',
    async (ctx) => {
      const { proxy, conn } = await throughProxy(ctx);
      const name = ctx.name();
      // A receiver, so that no backend may discard the first message for want of one (MQTT 5: NO_RECEIVER).
      await ctx.receiver(await ctx.connection(), { name, reliable: true });
      // sendTimeoutMillis is a shared option: every backend takes it.
      const quick = await ctx.sender(conn, { name, reliable: true, sendTimeoutMillis: 500 });
      await quick.sendMsg(Buffer.from('heard'));
      proxy.freeze();
      const started = Date.now();
      const error = await quick.sendMsg(Buffer.from('unheard')).then(
        () => undefined,
        (e: unknown) => e,
      );
      checkCode(error, 'TIMEOUT', 'send to a silent broker');
      const took = Date.now() - started;
      check(
        took >= 400 && took < 3_000,
        `the send settled ${took} ms after it started (sendTimeoutMillis 500)`,
      );
      await closesInTime(ctx, conn);
      checkEqual(quick.status, 'closed', 'queue status');
    },
    { requires: ['fault:silentBroker'] },
  ),

  defineCase(
    'close',
    'silent-broker-receiver-close',
    'when the broker goes silent, a receiver and its connection still close in bounded time',
    async (ctx) => {
      const { proxy, conn } = await throughProxy(ctx);
      const { queue } = await ctx.receiver(conn, { name: ctx.name(), reliable: true });
      proxy.freeze();
      await closesInTime(ctx, conn);
      checkEqual(queue.status, 'closed', 'receiver status');
    },
    { requires: ['fault:silentBroker'] },
  ),
];
