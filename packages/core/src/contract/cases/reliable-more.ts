import { check, checkSameBytes } from '../assert.js';
import type { ContractCase } from '../types.js';
import { defineCase } from './define.js';

/** Payload sizes from empty to a mebibyte, each a different length so that what arrives says which it was. */
const SIZES = [0, 100, 16 * 1024, 200 * 1024, 1024 * 1024];

/** A payload of `size` bytes that differs from one size to the next. */
function payloadOf(size: number): Buffer {
  return Buffer.from(Array.from({ length: size }, (_, i) => (i * 31 + size) % 256));
}

/** Reliable sends beyond the basics. */
export const moreReliableCases: readonly ContractCase[] = [
  defineCase(
    'reliable',
    'stored-before-resolve-any-size',
    'a reliable send resolves only once the broker has the message, whatever its size (empty to 1 MiB): closing the sender right after it resolved loses nothing',
    async (ctx) => {
      const name = ctx.name();
      const { collector } = await ctx.receiver(await ctx.connection(), { name, reliable: true });
      for (const size of SIZES) {
        const conn = await ctx.connection();
        const send = await ctx.sender(conn, { name, reliable: true });
        await send.sendMsg(payloadOf(size));
        await conn.close();
      }
      await collector.untilCount(SIZES.length, ctx.waitMillis);
      await ctx.quiet();
      const got = new Map(collector.received.map((r) => [r.payload.length, r.payload]));
      for (const size of SIZES) {
        const payload = got.get(size);
        check(
          payload,
          `the message of ${size} bytes arrived (sizes that did: ${[...got.keys()].join(', ')})`,
        );
        checkSameBytes(payload, payloadOf(size), `the message of ${size} bytes`);
      }
    },
    { timeoutMillis: 60_000 },
  ),
];
