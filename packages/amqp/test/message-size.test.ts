import { MqError } from '@mq/core';
import { type RabbitNode, rabbitmqMissing, startRabbitNode } from '@mq/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_MESSAGE_BYTES } from '../src/queue-driver.js';
import { skipNote, until, useNode } from './broker.js';
import { connected, queueName, receiver, sender } from './helpers.js';

// A RabbitMQ node of this file's own with a 1 MiB max_message_size: the broker closes the channel of whoever
// sends more.
const missing = rabbitmqMissing();
let node: RabbitNode | undefined;
beforeAll(async () => {
  if (missing) return;
  node = await startRabbitNode({ config: ['max_message_size = 1048576'] });
  useNode(node);
}, 120_000);
afterAll(() => node?.dispose(), 60_000);

describe.skipIf(missing !== undefined)(`payloads over a limit${skipNote(missing)}`, () => {
  it("a reliable send over RabbitMQ's max_message_size rejects with REJECTED and the broker's reason, not CONNECTION_LOST; the queue works on", async () => {
    const name = queueName('too-large');
    const conn = await connected();
    try {
      const inbox = await receiver(conn, { name, reliable: true });
      const send = await sender(conn, { name, reliable: true });
      const seen: string[] = [];
      send.on('status', (status) => seen.push(status));
      const error = await send.sendMsg(Buffer.alloc(2 * 1024 * 1024, 1)).catch((e: unknown) => e);
      expect(MqError.hasCode(error, 'REJECTED')).toBe(true);
      expect((error as MqError).message).toMatch(/larger than configured max size 1048576/);
      // The broker closed the sender's channel; it reopens by itself and sends again.
      await until(() => seen.includes('disconnected') && send.status === 'connected', 'the sender to reopen');
      await send.sendMsg(Buffer.from('after'));
      await until(() => inbox.texts.includes('after'), 'a message after the refused one');
    } finally {
      await conn.close();
    }
  }, 60_000);

  it('a payload over the 512 MiB RabbitMQ takes at all rejects with INVALID_ARGUMENT before anything is sent', async () => {
    const name = queueName('over-ceiling');
    const conn = await connected();
    try {
      const statuses: string[] = [];
      const send = await sender(conn, { name, reliable: true });
      send.on('status', (status) => statuses.push(status));
      // Not touched, so hardly resident.
      const huge = Buffer.allocUnsafeSlow(MAX_MESSAGE_BYTES + 1);
      const error = await send.sendMsg(huge).catch((e: unknown) => e);
      expect(MqError.hasCode(error, 'INVALID_ARGUMENT')).toBe(true);
      expect((error as MqError).message).toMatch(/512 MiB/);
      await send.sendMsg(Buffer.from('fine'));
      expect(statuses).toEqual([]);
    } finally {
      await conn.close();
    }
  }, 60_000);
});
