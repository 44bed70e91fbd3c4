import { uniqueId } from '@mq/testkit';
import * as amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import { destroySocket, isBrokerNack } from '../src/amqplib-internals.js';
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
});
