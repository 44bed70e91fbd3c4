import { check, checkEqual, checkRejectsCode, checkSameList } from '../assert.js';
import type { ContractCase } from '../types.js';
import { defineCase, sendAll, texts } from './define.js';

/** Status changes, reconnection and unreachable brokers. */
export const lifecycleCases: ContractCase[] = [
  defineCase(
    'lifecycle',
    'connection-status-order',
    'a connection starts closed and emits connecting then connected, once each',
    async (ctx) => {
      const conn = ctx.newConnection();
      checkEqual(conn.status, 'closed', 'initial status');
      const seen = ctx.recordStatuses(conn);
      conn.connect();
      await ctx.waitStatus(conn, 'connected');
      checkSameList(seen, ['connecting', 'connected'], 'status events');
    },
  ),

  defineCase(
    'lifecycle',
    'second-connect-harmless',
    'a second connect() on a connecting or connected connection changes nothing',
    async (ctx) => {
      const conn = ctx.newConnection();
      const seen = ctx.recordStatuses(conn);
      conn.connect();
      conn.connect();
      await ctx.waitStatus(conn, 'connected');
      conn.connect();
      const { collector } = await ctx.receiver(conn, { name: ctx.name() });
      check(collector.errors.length === 0, 'no queue error');
      checkSameList(seen, ['connecting', 'connected'], 'status events');
      checkEqual(conn.status, 'connected', 'status after connect() again');
    },
  ),

  defineCase(
    'lifecycle',
    'close-idempotent',
    'close() is idempotent: concurrent and repeated calls resolve, and nothing is emitted after closed',
    async (ctx) => {
      const conn = await ctx.connection();
      const seen = ctx.recordStatuses(conn);
      let errorsAfterClose = 0;
      await Promise.all([conn.close(), conn.close(), conn.close()]);
      conn.on('error', () => {
        errorsAfterClose += 1;
      });
      await conn.close();
      checkSameList(seen, ['closing', 'closed'], 'status events of close');
      checkEqual(conn.status, 'closed', 'status');
      await ctx.quiet();
      checkSameList(seen, ['closing', 'closed'], 'status events after closed');
      checkEqual(errorsAfterClose, 0, 'errors after closed');
    },
  ),

  defineCase(
    'lifecycle',
    'queue-status-order',
    'a queue starts closed, emits connecting, connected, then closing, closed on close()',
    async (ctx) => {
      const conn = await ctx.connection();
      const queue = ctx.newQueue(conn, { name: ctx.name(), isRecv: false });
      checkEqual(queue.status, 'closed', 'initial queue status');
      const seen = ctx.recordStatuses(queue);
      queue.connect();
      await ctx.waitStatus(queue, 'connected');
      await queue.close();
      await queue.close();
      checkSameList(seen, ['connecting', 'connected', 'closing', 'closed'], 'queue status events');
    },
  ),

  defineCase(
    'lifecycle',
    'queue-waits-for-connection',
    'a queue connected before its connection waits in connecting (no disconnected on the way), then becomes connected with it and works',
    async (ctx) => {
      const conn = ctx.newConnection();
      const name = ctx.name();
      const { queue: recv, collector } = ctx.startReceiver(conn, { name });
      const recvSeen = ctx.recordStatuses(recv);
      const send = ctx.newQueue(conn, { name, isRecv: false });
      const seen = ctx.recordStatuses(send);
      send.connect();
      checkEqual(send.status, 'connecting', 'sender status before the connection is up');
      conn.connect();
      await ctx.waitStatus(recv, 'connected');
      await ctx.waitStatus(send, 'connected');
      // The connection going from closed to connecting is no loss of a link the queue had: nothing to report.
      checkSameList(seen, ['connecting', 'connected'], 'sender status events');
      // The receiver was already connecting when recording began.
      checkSameList(recvSeen, ['connected'], 'receiver status events once it was connecting');
      await send.sendMsg(Buffer.from('hello'));
      await collector.untilCount(1, ctx.waitMillis);
      checkSameList(collector.texts, ['hello'], 'received');
    },
  ),

  defineCase(
    'lifecycle',
    'connection-close-closes-queues',
    'closing a connection closes its queues first, which end closed',
    async (ctx) => {
      const conn = await ctx.connection();
      const send = await ctx.sender(conn, { name: ctx.name() });
      const { queue: recv } = await ctx.receiver(conn, { name: ctx.name() });
      await conn.close();
      checkEqual(send.status, 'closed', 'sender status');
      checkEqual(recv.status, 'closed', 'receiver status');
    },
  ),

  defineCase(
    'lifecycle',
    'reconnect-after-close',
    'a closed connection and queue can be connected again and work',
    async (ctx) => {
      const conn = await ctx.connection();
      const name = ctx.name();
      await ctx.receiver(conn, { name, reliable: true });
      const send = await ctx.sender(conn, { name, reliable: true });
      await conn.close();
      conn.connect();
      await ctx.waitStatus(conn, 'connected');
      send.connect();
      await ctx.waitStatus(send, 'connected');
      // The receiver was closed with the connection; a new one takes over. It opens before the send, so that
      // the case does not depend on retainUnicast (kept-before-receiver covers that).
      const { collector: second } = await ctx.receiver(conn, { name, reliable: true });
      await send.sendMsg(Buffer.from('again'));
      await second.untilText('again', ctx.waitMillis);
    },
  ),

  defineCase(
    'lifecycle',
    'queue-follows-connection',
    'when the link drops, the connection and its queues go disconnected, then come back by themselves and work',
    async (ctx) => {
      const drop = ctx.target.faults?.dropConnection;
      check(drop, 'dropConnection fault hook');
      const conn = await ctx.connection();
      const name = ctx.name();
      const { queue: recv, collector } = await ctx.receiver(conn, { name, reliable: true });
      const send = await ctx.sender(conn, { name, reliable: true });
      const connSeen = ctx.recordStatuses(conn);
      const sendSeen = ctx.recordStatuses(send);
      const recvSeen = ctx.recordStatuses(recv);
      await drop(conn);
      await ctx.poll(() => connSeen.includes('disconnected'), 'the connection to go disconnected');
      await ctx.waitStatus(conn, 'connected');
      await ctx.waitStatus(send, 'connected');
      await ctx.waitStatus(recv, 'connected');
      check(sendSeen.includes('disconnected'), `sender went disconnected (saw ${sendSeen.join(', ')})`);
      check(recvSeen.includes('disconnected'), `receiver went disconnected (saw ${recvSeen.join(', ')})`);
      const items = texts('after', 5);
      await sendAll(send, items);
      await collector.until(
        (c) => items.every((t) => c.texts.includes(t)),
        'messages after reconnect',
        ctx.waitMillis,
      );
    },
    { requires: ['fault:dropConnection'] },
  ),

  defineCase(
    'lifecycle',
    'send-while-disconnected',
    'with sendBufferMessages 0, a send while the queue is disconnected (link dropped, reconnect pending) rejects at once with NOT_CONNECTED, is never sent later, and later sends work',
    async (ctx) => {
      const drop = ctx.target.faults?.dropConnection;
      check(drop, 'dropConnection fault hook');
      // A long reconnect delay keeps the queue disconnected long enough to send into the gap, and short enough
      // to come back within the wait.
      const reconnectMillis = Math.round(Math.min(1500, ctx.waitMillis / 3));
      const conn = ctx.newConnection({ ...ctx.target.connectionOptions(), reconnectMillis });
      conn.connect();
      await ctx.waitStatus(conn, 'connected');
      const name = ctx.name();
      const { collector } = await ctx.receiver(await ctx.connection(), { name, reliable: true });
      // No send waits for the link: the app retries by itself.
      const send = await ctx.sender(conn, { name, reliable: true, sendBufferMessages: 0 });
      await drop(conn);
      await ctx.waitStatus(send, 'disconnected');
      await checkRejectsCode(
        () => send.sendMsg(Buffer.from('in the gap')),
        'NOT_CONNECTED',
        'send while disconnected',
      );
      await ctx.waitStatus(send, 'connected');
      await send.sendMsg(Buffer.from('after'));
      await collector.untilText('after', ctx.waitMillis);
      check(!collector.texts.includes('in the gap'), 'the rejected send was not delivered later');
    },
    { requires: ['fault:dropConnection'] },
  ),

  defineCase(
    'lifecycle',
    'unreachable-broker',
    'an unreachable broker: connect() does not throw, never connects, reports errors, and close() resolves',
    async (ctx) => {
      const conn = ctx.newConnection(ctx.target.unreachableConnectionOptions());
      const seen = ctx.recordStatuses(conn);
      const errors: unknown[] = [];
      conn.on('error', (error) => errors.push(error));
      conn.connect();
      await ctx.poll(() => seen.includes('disconnected'), 'the failed attempt to end in disconnected');
      check(errors.length > 0, 'an error event for the failed attempt');
      check(!seen.includes('connected'), 'never connected');
      await conn.close();
      checkEqual(conn.status, 'closed', 'status after close');
    },
  ),

  defineCase(
    'lifecycle',
    'unreachable-keeps-retrying',
    'against an unreachable broker the connection keeps trying after each failed attempt, never sooner than reconnectMillis',
    async (ctx) => {
      const reconnectMillis = 150;
      const conn = ctx.newConnection({ ...ctx.target.unreachableConnectionOptions(), reconnectMillis });
      const attempts: number[] = [];
      conn.on('status', (status) => {
        if (status === 'connecting') attempts.push(Date.now());
      });
      conn.on('error', () => {});
      conn.connect();
      await ctx.poll(() => attempts.length >= 4, 'four attempts', ctx.waitMillis + 4 * reconnectMillis);
      await conn.close();
      for (let i = 1; i < attempts.length; i += 1) {
        const gap = (attempts[i] ?? 0) - (attempts[i - 1] ?? 0);
        // Timers may fire a millisecond early; a retry loop without its delay fires within a few.
        check(
          gap >= reconnectMillis - 5,
          `attempt ${i + 1} came ${gap} ms after the one before (reconnectMillis ${reconnectMillis})`,
        );
      }
    },
  ),

  defineCase(
    'lifecycle',
    'unreachable-backs-off',
    'against an unreachable broker the wait between attempts doubles from reconnectMillis and stops growing at reconnectMaxMillis',
    async (ctx) => {
      const reconnectMillis = 100;
      const reconnectMaxMillis = 400;
      const conn = ctx.newConnection({
        ...ctx.target.unreachableConnectionOptions(),
        reconnectMillis,
        reconnectMaxMillis,
      });
      // Each wait runs from a failed attempt (disconnected) to the next attempt (connecting).
      const waits: number[] = [];
      let failedAt: number | undefined;
      conn.on('status', (status) => {
        if (status === 'disconnected') failedAt = Date.now();
        if (status === 'connecting' && failedAt !== undefined) waits.push(Date.now() - failedAt);
      });
      conn.on('error', () => {});
      conn.connect();
      await ctx.poll(() => waits.length >= 5, 'five retries', ctx.waitMillis + 8 * reconnectMaxMillis);
      await conn.close();
      const [first, second, third, ...capped] = waits as [number, number, number, ...number[]];
      // Timers may fire a millisecond early; a wait of 0.8 to 1 times its value is the documented jitter.
      check(first >= reconnectMillis - 5, `the first retry came after ${first} ms (reconnectMillis 100)`);
      check(second >= 160 - 5, `the second retry came after ${second} ms, expected 160 to 200 (doubled)`);
      check(third >= 320 - 5, `the third retry came after ${third} ms, expected 320 to 400 (doubled again)`);
      for (const wait of capped) {
        // Late timers on a loaded machine stretch a wait; without the cap it would be 800 ms, then 1600.
        check(
          wait >= 320 - 5 && wait < 1.5 * reconnectMaxMillis,
          `a retry after the cap came after ${wait} ms, expected 320 to 400 (reconnectMaxMillis 400)`,
        );
      }
    },
  ),

  defineCase(
    'lifecycle',
    'close-from-status-listener',
    'a status listener that closes the connection when it goes disconnected: every listener sees connecting, disconnected, closing, closed, in that order, and no retry follows',
    async (ctx) => {
      const conn = ctx.newConnection(ctx.target.unreachableConnectionOptions());
      conn.on('error', () => {});
      conn.on('status', (status) => {
        if (status === 'disconnected') void conn.close();
      });
      const seen = ctx.recordStatuses(conn);
      conn.connect();
      await ctx.waitStatus(conn, 'closed');
      await ctx.quiet();
      checkSameList(
        seen,
        ['connecting', 'disconnected', 'closing', 'closed'],
        'statuses a later listener saw',
      );
    },
  ),

  defineCase(
    'lifecycle',
    'unreachable-send-rejects',
    'a send to a queue on an unreachable broker waits for it and rejects with TIMEOUT at its sendTimeoutMillis (at once with NOT_CONNECTED under sendBufferMessages 0)',
    async (ctx) => {
      const conn = ctx.newConnection(ctx.target.unreachableConnectionOptions());
      conn.on('error', () => {});
      conn.connect();
      const name = ctx.name();
      const queue = ctx.newQueue(conn, { name, isRecv: false, reliable: true, sendTimeoutMillis: 300 });
      queue.connect();
      const started = Date.now();
      await checkRejectsCode(() => queue.sendMsg(Buffer.from('x')), 'TIMEOUT', 'send while unreachable');
      const took = Date.now() - started;
      check(took >= 250 && took < 3000, `the send waited ${took} ms, expected about its 300 ms deadline`);
      const impatient = ctx.newQueue(conn, { name, isRecv: false, reliable: true, sendBufferMessages: 0 });
      impatient.connect();
      await checkRejectsCode(
        () => impatient.sendMsg(Buffer.from('x')),
        'NOT_CONNECTED',
        'send while unreachable, sendBufferMessages 0',
      );
      check(queue.status !== 'connected', 'queue waits for its connection');
    },
  ),

  defineCase(
    'lifecycle',
    'error-without-listener',
    'connection errors with no error listener do not throw or crash',
    async (ctx) => {
      const conn = ctx.newConnection(ctx.target.unreachableConnectionOptions());
      const seen = ctx.recordStatuses(conn);
      conn.connect();
      await ctx.poll(() => seen.filter((s) => s === 'disconnected').length >= 1, 'a failed attempt');
      await conn.close();
    },
  ),
];
