import { MqError } from '@mq/core';
import { type MosquittoBroker, mosquittoMissing, startMosquitto } from '@mq/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttConnection } from '../src/index.js';
import { connection, queueName, receiver, sender, until } from './helpers.js';

// Issue #25.8: a payload over MQTT's ceiling (a remaining length of 268,435,455 bytes) or over the broker's CONNACK
// maximumPacketSize dropped the whole connection, rejected the send with CONNECTION_LOST (which tells apps to send
// again: a loop) and blamed a client-id clash. It must reject with INVALID_ARGUMENT before anything is sent, and the
// connection must live on. On a Mosquitto of this file's own that allows packets of at most 10,000 bytes.
const missing = mosquittoMissing();
let broker: MosquittoBroker | undefined;
beforeAll(async () => {
  if (!missing) broker = await startMosquitto({ persistence: false, config: ['max_packet_size 10000'] });
}, 30_000);
afterAll(() => broker?.dispose());

/** The statuses `conn` goes through from now on. */
function statuses(conn: MqttConnection): string[] {
  const seen: string[] = [];
  conn.on('status', (status) => seen.push(status));
  return seen;
}

/** A reliable receiver and, on a connection of its own whose statuses are recorded, a sender to it. */
async function reliablePair(prefix: string) {
  const name = queueName(prefix);
  const { inbox } = await receiver(await connection({ uri: broker!.url }), { name, reliable: true });
  const conn = await connection({ uri: broker!.url });
  const seen = statuses(conn);
  const send = await sender(conn, { name, reliable: true });
  return { name, inbox, send, seen };
}

describe.skipIf(missing !== undefined)(
  `a payload larger than a packet may be${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    it.each([5, 4] as const)(
      'over the protocol ceiling (268,435,455 bytes) rejects with INVALID_ARGUMENT before sending; the link stays up (protocolVersion %i)',
      async (protocolVersion) => {
        const name = queueName('huge');
        const conn = await connection({ uri: broker!.url, protocolVersion });
        const seen = statuses(conn);
        const send = await sender(conn, { name, reliable: true });
        // Zero-filled and never written: the pages are not touched, so this costs no memory.
        const error = await send.sendMsg(new Uint8Array(268_435_456)).catch((e: unknown) => e);
        expect(MqError.hasCode(error, 'INVALID_ARGUMENT')).toBe(true);
        expect((error as MqError).message).toMatch(/too large for MQTT/);
        expect((error as MqError).message).not.toMatch(/clientId/);
        expect(seen).toEqual([]);
      },
      30_000,
    );

    it("over the broker's CONNACK maximumPacketSize rejects with INVALID_ARGUMENT before sending; the link stays up and the next send arrives (MQTT 5)", async () => {
      const { name, inbox, send, seen } = await reliablePair('big');
      const error = await send.sendMsg(Buffer.alloc(20_000)).catch((e: unknown) => e);
      expect(MqError.hasCode(error, 'INVALID_ARGUMENT')).toBe(true);
      expect((error as MqError).message).toMatch(/maximumPacketSize of 10000/);
      await send.sendMsg(Buffer.from('small'));
      await until(() => inbox.texts.includes('small'), 'the small message');
      // The size is counted exactly: a PUBLISH of exactly 10,000 bytes goes (fixed header 3, topic length 2,
      // packet id 2, property length 1), one byte more does not.
      const fits = 10_000 - 8 - Buffer.byteLength(name);
      await send.sendMsg(Buffer.alloc(fits, 'x'));
      await until(() => inbox.texts.length === 2, 'the message of exactly maximumPacketSize');
      const over = await send.sendMsg(Buffer.alloc(fits + 1, 'x')).catch((e: unknown) => e);
      expect(MqError.hasCode(over, 'INVALID_ARGUMENT')).toBe(true);
      expect(seen).toEqual([]);
    });

    it('counts a response topic (replyTo) in the packet size: exactly maximumPacketSize goes, one byte more is refused before sending (MQTT 5)', async () => {
      const { name, inbox, send, seen } = await reliablePair('reply-size');
      const replyTo = 'replies/for/this/sender';
      // As above, plus the response topic property: its identifier byte, its length (2) and its bytes.
      const fits = 10_000 - 8 - Buffer.byteLength(name) - (3 + Buffer.byteLength(replyTo));
      await send.sendMsg(Buffer.alloc(fits, 'x'), { replyTo });
      await until(() => inbox.texts.length === 1, 'the message of exactly maximumPacketSize');
      const over = await send.sendMsg(Buffer.alloc(fits + 1, 'x'), { replyTo }).catch((e: unknown) => e);
      expect(MqError.hasCode(over, 'INVALID_ARGUMENT')).toBe(true);
      expect((over as MqError).message).toMatch(/maximumPacketSize of 10000/);
      expect(seen).toEqual([]);
    });
  },
);
