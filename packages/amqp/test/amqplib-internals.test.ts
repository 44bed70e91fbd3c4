import { uniqueId } from '@mq/testkit';
import * as amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import { coalesceWrites, destroySocket, isBrokerNack } from '../src/amqplib-internals.js';
import { brokerUrl } from './broker.js';

// Canaries: what src/amqplib-internals.ts relies on, checked against the pinned amqplib and a real broker. If an
// amqplib upgrade fails one of these, fix that file before anything else.
describe('what @mq/amqp relies on in amqplib', () => {
  it('the socket under a connection can be destroyed, and amqplib then reports the connection closed', async () => {
    const model = await amqp.connect(brokerUrl());
    const errors: Error[] = [];
    model.on('error', (error: Error) => errors.push(error));
    const closed = new Promise<Error | undefined>((resolve) => model.once('close', resolve));
    expect(destroySocket(model, new Error('cut by the canary'))).toBe(true);
    const why = await closed;
    expect(why?.message ?? errors[0]?.message).toMatch(/cut by the canary|closed/);
  });

  it('a broker basic.nack reaches the publish callback as the error isBrokerNack recognises', async () => {
    const model = await amqp.connect(brokerUrl());
    model.on('error', () => {});
    try {
      const channel = await model.createConfirmChannel();
      const name = uniqueId('canary-nack');
      // A queue that holds nothing and refuses (nacks) what does not fit: RabbitMQ's reject-publish overflow.
      await channel.assertQueue(name, {
        exclusive: true,
        arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' },
      });
      const error = await new Promise<unknown>((resolve) => {
        channel.publish('', name, Buffer.from('x'), {}, (err: unknown) => resolve(err));
      });
      expect(error).toBeInstanceOf(Error);
      expect(isBrokerNack(error)).toBe(true);
      expect(isBrokerNack(new Error('channel closed'))).toBe(false);
    } finally {
      await model.close();
    }
  });

  it('the frames amqplib writes in one tick leave in one socket write once coalesceWrites wraps the socket', async () => {
    // Counts what reaches the kernel: one _write or _writev call per syscall-level write.
    const writesFor = async (coalesce: boolean): Promise<number> => {
      const model = await amqp.connect(brokerUrl());
      model.on('error', () => {});
      try {
        if (coalesce) expect(coalesceWrites(model)).toBe(true);
        const socket = (
          model.connection as unknown as { stream: Record<string, (...a: unknown[]) => unknown> }
        ).stream;
        let writes = 0;
        for (const method of ['_write', '_writev']) {
          const original = socket[method];
          if (typeof original !== 'function') continue;
          socket[method] = function counted(this: unknown, ...args: unknown[]) {
            writes += 1;
            return original.apply(this, args);
          };
        }
        const channel = await model.createConfirmChannel();
        const name = uniqueId('canary-coalesce');
        await channel.assertQueue(name, { exclusive: true });
        writes = 0;
        const confirmed = Array.from(
          { length: 50 },
          (_, i) =>
            new Promise<void>((resolve, reject) => {
              channel.publish('', name, Buffer.from(`m${i}`), {}, (error: unknown) =>
                error ? reject(error) : resolve(),
              );
            }),
        );
        await Promise.all(confirmed);
        expect((await channel.checkQueue(name)).messageCount).toBe(50);
        return writes;
      } finally {
        await model.close();
      }
    };
    const plain = await writesFor(false);
    const coalesced = await writesFor(true);
    // amqplib alone writes each of the 50 publishes on its own; wrapped, they share a handful of writes.
    expect(plain).toBeGreaterThanOrEqual(25);
    expect(coalesced).toBeLessThanOrEqual(5);
  });
});
