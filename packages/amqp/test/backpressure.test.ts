import type { MqError } from '@mq/core';
import { describe, expect, it } from 'vitest';
import type { AmqpConnection } from '../src/index.js';
import { forceClose, listQueues, nodeForThisFile, rabbitmqctl, skipNote, until } from './broker.js';
import { connected, queueName, sender } from './helpers.js';

// Raises RabbitMQ's memory alarm (set_vm_memory_high_watermark 0): the broker blocks every publishing
// connection and stops reading their sockets. On a node of this file's own, never the broker under test.
const missing = nodeForThisFile();
let raised = false;

async function alarms(): Promise<string> {
  return rabbitmqctl('eval', 'rabbit_alarm:get_alarms().');
}

async function raiseMemoryAlarm(): Promise<void> {
  raised = true;
  await rabbitmqctl('set_vm_memory_high_watermark', '0');
  await until(async () => (await alarms()).includes('memory'), 'the memory alarm');
}

// Back to the configured watermark (set_vm_memory_high_watermark changes only the running value).
async function clearMemoryAlarm(): Promise<void> {
  if (!raised) return;
  const configured = await rabbitmqctl('eval', 'application:get_env(rabbit, vm_memory_high_watermark).');
  const value = /\{ok,([\d.]+)\}/.exec(configured)?.[1] ?? '0.4';
  await rabbitmqctl('set_vm_memory_high_watermark', value);
  raised = false;
  await until(async () => !(await alarms()).includes('memory'), 'the memory alarm to clear');
}

function blockedSignal(conn: AmqpConnection): Promise<void> {
  return new Promise((resolve) => {
    conn.on('error', (error) => {
      if (error.message.includes('blocked')) resolve();
    });
  });
}

/** Resolves once `read()` has not changed over `polls` consecutive 100 ms samples (showing that it stalled). */
async function stalled(read: () => number, polls = 5): Promise<number> {
  let last = read();
  let same = 0;
  await until(() => {
    const now = read();
    same = now === last ? same + 1 : 0;
    last = now;
    return same >= polls;
  }, 'the count to stop growing');
  return last;
}

describe.skipIf(missing !== undefined)(
  `backpressure while the broker stops reading (memory alarm)${skipNote(missing)}`,
  () => {
    it('a best-effort sender is held back by drain instead of buffering without bound; nothing is lost', async () => {
      const name = queueName('backpressure');
      const conn = await connected();
      try {
        const send = await sender(conn, { name });
        const blocked = blockedSignal(conn);
        const payload = Buffer.alloc(64 * 1024, 0x5a);
        // 190 MiB: without backpressure amqplib would take all of it into memory at once. With it, the producer stops
        // once the kernel, the broker's read-ahead and amqplib's channel buffer (1024 frames) are full.
        const total = 3000;
        let resolved = 0;
        let producing: Promise<void> = Promise.resolve();
        try {
          await raiseMemoryAlarm();
          producing = (async () => {
            for (let i = 0; i < total; i += 1) {
              await send.sendMsg(payload);
              resolved += 1;
            }
          })();
          await blocked;
          const heldAt = await stalled(() => resolved);
          // Only what fits in the socket and channel buffers went out; the producer waits for 'drain'.
          expect(heldAt).toBeLessThan(total / 2);
          console.info(`best-effort producer held at ${heldAt} of ${total} 64 KiB messages while blocked`);
        } finally {
          await clearMemoryAlarm();
        }
        await producing;
        expect(resolved).toBe(total);
        await until(
          async () => (await listQueues(name, ['messages'])).get(name)?.messages === total,
          `all ${total} messages in the queue`,
          30_000,
        );
      } finally {
        await conn.close();
      }
    }, 90_000);

    it('the connection emits blocked when RabbitMQ blocks its publishes and unblocked when the alarm lifts; a send made meanwhile goes through', async () => {
      const name = queueName('blocked-events');
      const conn = await connected();
      try {
        const send = await sender(conn, { name, reliable: true });
        const flow: string[] = [];
        conn.on('error', () => {});
        conn.on('blocked', (reason) => flow.push(`blocked: ${reason}`));
        conn.on('unblocked', () => flow.push('unblocked'));
        let sent: Promise<void> = Promise.resolve();
        try {
          await raiseMemoryAlarm();
          // RabbitMQ blocks a connection when it next publishes.
          sent = send.sendMsg(Buffer.from('during'));
          await until(() => flow.length > 0, 'the blocked event');
          expect(flow).toEqual([expect.stringMatching(/^blocked: .*memory/)]);
        } finally {
          await clearMemoryAlarm();
        }
        await until(() => flow.includes('unblocked'), 'the unblocked event');
        expect(flow).toHaveLength(2);
        await sent;
        expect(conn.listenerCount('unblocked')).toBe(1);
      } finally {
        await conn.close();
      }
    }, 90_000);

    it('reliable sends that time out while waiting for drain are never written once the alarm lifts', async () => {
      const name = queueName('blocked-timeout');
      const conn = await connected();
      try {
        const send = await sender(conn, { name, reliable: true, sendTimeoutMillis: 3000 });
        const blocked = blockedSignal(conn);
        const payload = Buffer.alloc(64 * 1024, 0x5a);
        const total = 3000;
        const codes = new Map<string, number>();
        try {
          await raiseMemoryAlarm();
          // All at once: the first fill the socket and amqplib's channel buffer, the rest wait for 'drain'.
          const sends = Array.from({ length: total }, () =>
            send.sendMsg(payload).then(
              () => 'resolved',
              (error: unknown) => (error as MqError).code,
            ),
          );
          await blocked;
          for (const code of await Promise.all(sends)) codes.set(code, (codes.get(code) ?? 0) + 1);
          expect([...codes]).toEqual([['TIMEOUT', total]]);
        } finally {
          await clearMemoryAlarm();
        }
        // Confirms come in order: once this one is confirmed, everything written before it is in the queue.
        await send.sendMsg(Buffer.from('after'));
        const stored = Number((await listQueues(name, ['messages'])).get(name)?.messages ?? 0) - 1;
        console.info(`${stored} of ${total} timed-out 64 KiB sends had been written before they timed out`);
        // Only what fitted in the socket and channel buffers before the block; none of those waiting for 'drain'.
        expect(stored).toBeLessThan(total / 2);
      } finally {
        await conn.close();
      }
    }, 90_000);

    it('sends waiting on a blocked link (confirms and drain alike) reject CONNECTION_LOST when it drops', async () => {
      const name = queueName('blocked-drop');
      const bestEffortName = queueName('blocked-drop-be');
      const conn = await connected({ reconnectMillis: 200 });
      try {
        const reliable = await sender(conn, { name, reliable: true });
        const bestEffort = await sender(conn, { name: bestEffortName });
        const blocked = blockedSignal(conn);
        let outcomes: Promise<PromiseSettledResult<void>[]> = Promise.resolve([]);
        let beOutcome: Promise<unknown> = Promise.resolve();
        try {
          await raiseMemoryAlarm();
          const sends = Array.from({ length: 50 }, (_, i) => reliable.sendMsg(Buffer.from(`r${i}`)));
          outcomes = Promise.allSettled(sends);
          const big = Buffer.alloc(64 * 1024);
          beOutcome = (async () => {
            for (;;) await bestEffort.sendMsg(big);
          })().catch((error: unknown) => error);
          await blocked;
          let settled = 0;
          for (const s of sends)
            s.then(
              () => (settled += 1),
              () => (settled += 1),
            );
          expect(await stalled(() => settled)).toBe(0);
          await forceClose(conn);
          const results = await outcomes;
          expect(
            results.map((r) => (r.status === 'rejected' ? (r.reason as MqError).code : 'resolved')),
          ).toEqual(Array(50).fill('CONNECTION_LOST'));
          expect(((await beOutcome) as MqError).code).toBe('CONNECTION_LOST');
        } finally {
          await clearMemoryAlarm();
        }
        await until(() => reliable.status === 'connected', 'the sender to come back');
        await reliable.sendMsg(Buffer.from('after'));
      } finally {
        await conn.close();
      }
    }, 90_000);
  },
);
