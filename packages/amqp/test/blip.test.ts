import { MqError } from '@mq/core';
import { describe, expect, it } from 'vitest';
import { until } from './broker.js';
import { connected, queueName, receiver, sender, statuses } from './helpers.js';

// The link of a connection of the test's own is cut (its socket destroyed) for about 200 ms: nothing else on the
// broker under test is touched.
describe('sends through a 200 ms blip of the link', () => {
  it('3,000 reliable sends, 20 at a time: none rejects NOT_CONNECTED, only those on the dying link may fail, every one that resolved arrives', async () => {
    const name = queueName('blip');
    const conn = await connected({ reconnectMillis: 200 });
    const other = await connected();
    try {
      const inbox = await receiver(other, { name, reliable: true });
      const send = await sender(conn, { name, reliable: true });
      const seen = statuses(send);
      const codes = new Map<string, number>();
      const resolved: string[] = [];
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < 3000) {
          const text = `m-${next++}`;
          // The link drops once a third is sent.
          if (next === 1000) conn.simulateDrop();
          try {
            await send.sendMsg(Buffer.from(text));
            resolved.push(text);
          } catch (error) {
            const code = MqError.isInstance(error) ? error.code : String(error);
            codes.set(code, (codes.get(code) ?? 0) + 1);
          }
        }
      };
      await Promise.all(Array.from({ length: 20 }, worker));
      console.info(
        `3,000 sends through a 200 ms blip: ${resolved.length} resolved, failures ${JSON.stringify([...codes])}`,
      );
      expect(seen).toContain('disconnected');
      expect(codes.get('NOT_CONNECTED') ?? 0).toBe(0);
      // At most the 20 in flight on the link as it died.
      expect([...codes.keys()].every((code) => code === 'CONNECTION_LOST')).toBe(true);
      expect(codes.get('CONNECTION_LOST') ?? 0).toBeLessThanOrEqual(20);
      await until(() => {
        const got = new Set(inbox.texts);
        return resolved.every((text) => got.has(text));
      }, `all ${resolved.length} resolved messages at the receiver`);
    } finally {
      await conn.close();
      await other.close();
    }
  }, 60_000);
});
