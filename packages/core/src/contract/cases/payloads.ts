import { MqError } from '../../api/errors.js';
import { check, checkEqual, checkSameBytes } from '../assert.js';
import type { ContractContext } from '../context.js';
import type { ContractCase } from '../types.js';
import { defineCase } from './define.js';

async function roundTrip(ctx: ContractContext, payload: Uint8Array, what: string): Promise<void> {
  const conn = await ctx.connection();
  const name = ctx.name();
  const { collector } = await ctx.receiver(conn, { name, reliable: true });
  const send = await ctx.sender(conn, { name, reliable: true });
  await send.sendMsg(payload);
  await collector.untilCount(1, ctx.waitMillis);
  const [received] = collector.received;
  check(received, 'one message');
  check(Buffer.isBuffer(received.payload), `${what}: payload is a Buffer`);
  checkSameBytes(received.payload, payload, what);
}

/** Payloads round-trip byte for byte. */
export const payloadCases: ContractCase[] = [
  defineCase('payloads', 'empty', 'an empty payload arrives as an empty Buffer', (ctx) =>
    roundTrip(ctx, new Uint8Array(0), 'empty payload'),
  ),

  defineCase('payloads', 'all-bytes', 'a payload of all 256 byte values arrives byte for byte', (ctx) => {
    const payload = Uint8Array.from({ length: 512 }, (_, i) => i % 256);
    return roundTrip(ctx, payload, 'all byte values');
  }),

  defineCase('payloads', 'one-mebibyte', 'a 1 MiB payload arrives byte for byte', (ctx) => {
    const payload = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < payload.length; i += 1) payload[i] = (i * 7 + (i >> 8)) & 0xff;
    return roundTrip(ctx, payload, '1 MiB payload');
  }),

  defineCase(
    'payloads',
    'several-mebibytes',
    'a payload of several MiB arrives byte for byte, or its send rejects with an MqError and nothing arrives',
    async (ctx) => {
      const conn = await ctx.connection();
      const name = ctx.name();
      const { collector } = await ctx.receiver(conn, { name, reliable: true });
      const send = await ctx.sender(conn, { name, reliable: true });
      // Not a power of two, so that a backend cutting at a chunk or frame boundary cannot land on it by chance.
      const payload = Buffer.alloc(5 * 1024 * 1024 + 3);
      for (let i = 0; i < payload.length; i += 1) payload[i] = (i * 13 + (i >> 10)) & 0xff;
      const refused = await send.sendMsg(payload).then(
        () => undefined,
        (error: unknown) => error,
      );
      if (refused !== undefined) {
        // A refusal says so (too large, refused by the broker, not supported), not a lost link or a timeout.
        check(
          MqError.isInstance(refused) &&
            ['INVALID_ARGUMENT', 'REJECTED', 'UNSUPPORTED'].includes(refused.code),
          `a refused large send rejects with INVALID_ARGUMENT, REJECTED or UNSUPPORTED, got ${String(refused)}`,
        );
        await send.sendMsg(Buffer.from('after'));
        await collector.untilText('after', ctx.waitMillis);
        checkEqual(collector.received.length, 1, 'messages delivered (only the one after the refused send)');
        return;
      }
      await collector.untilCount(1, ctx.waitMillis * 2);
      checkSameBytes(collector.received[0]!.payload, payload, '5 MiB + 3 bytes payload');
    },
    { timeoutMillis: 60_000 },
  ),

  defineCase('payloads', 'non-utf8', 'a payload that is not valid UTF-8 arrives unchanged', (ctx) => {
    const payload = Uint8Array.from([
      0xff, 0xfe, 0xed, 0xa0, 0x80, 0xc0, 0xaf, 0x00, 0xf8, 0x88, 0x80, 0x80, 0x80, 0xc3,
    ]);
    return roundTrip(ctx, payload, 'non-UTF-8 payload');
  }),

  defineCase(
    'payloads',
    'best-effort-bytes',
    'a best-effort payload of all byte values arrives byte for byte',
    async (ctx) => {
      const conn = await ctx.connection();
      const name = ctx.name();
      const { collector } = await ctx.receiver(conn, { name });
      const send = await ctx.sender(conn, { name });
      const payload = Uint8Array.from({ length: 256 }, (_, i) => 255 - i);
      await send.sendMsg(payload);
      await collector.untilCount(1, ctx.waitMillis);
      checkSameBytes(collector.received[0]!.payload, payload, 'best-effort payload');
    },
  ),
];
