import * as amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import { BINDING_CHECK_MILLIS } from '../src/binding-watch.js';
import { brokerUrl, nodeForThisFile, skipNote, until } from './broker.js';
import { connected, queueName, receiver, sender } from './helpers.js';

// Deletes fanout exchanges under running receivers, as an operator or a redeploy does: on a node of this file's
// own, never the broker under test.
const missing = nodeForThisFile();

/** Deletes exchange `name` through a plain amqplib connection. */
async function deleteExchange(name: string): Promise<void> {
  const model = await amqp.connect(brokerUrl());
  try {
    const channel = await model.createChannel();
    await channel.deleteExchange(name);
  } finally {
    await model.close();
  }
}

/** A few check periods: the receiver must have noticed within them. */
const NOTICE_MILLIS = BINDING_CHECK_MILLIS * 3;

describe.skipIf(missing !== undefined)(
  `a broadcast receiver whose fanout exchange is deleted${skipNote(missing)}`,
  () => {
    it('declares the exchange again, binds again and says so, when nobody else has declared it', async () => {
      const name = queueName('fanout-gone');
      const conn = await connected();
      try {
        const inbox = await receiver(conn, { name, broadcast: true, reliable: true });
        const send = await sender(conn, { name, broadcast: true, reliable: true });
        await send.sendMsg(Buffer.from('before'));
        await until(() => inbox.texts.includes('before'), 'the message sent before the deletion');
        await deleteExchange(name);
        await until(
          () => inbox.errors.some((error) => /was deleted on the broker/.test(error.message)),
          'the receiver to report that its exchange was deleted',
          NOTICE_MILLIS,
        );
        expect(inbox.queue.status).toBe('connected');
        await send.sendMsg(Buffer.from('after'));
        await until(() => inbox.texts.includes('after'), 'a message sent after the exchange came back');
      } finally {
        await conn.close();
      }
    }, 60_000);

    it('binds again to the exchange a sender declared again meanwhile: messages flow again, nothing confirmed after is lost', async () => {
      const name = queueName('fanout-redeclared');
      const conn = await connected();
      const other = await connected();
      try {
        const inbox = await receiver(other, { name, broadcast: true, reliable: true });
        const send = await sender(conn, { name, broadcast: true, reliable: true });
        await send.sendMsg(Buffer.from('before'));
        await until(() => inbox.texts.includes('before'), 'the message sent before the deletion');
        await deleteExchange(name);
        // The sender finds the exchange gone (its channel closes with 404) and declares it again on reopening.
        let i = 0;
        const resolved: string[] = [];
        await until(
          async () => {
            const text = `m-${i++}`;
            await send.sendMsg(Buffer.from(text)).then(
              () => resolved.push(text),
              () => {},
            );
            // Any confirmed one that arrived: delivery to the other connection may trail its confirm.
            return resolved.some((sent) => inbox.texts.includes(sent));
          },
          'a message sent after the deletion to reach the receiver',
          NOTICE_MILLIS,
        );
        // From then on every confirmed message arrives.
        const later = Array.from({ length: 100 }, (_, k) => `later-${k}`);
        for (const text of later) await send.sendMsg(Buffer.from(text));
        await until(() => later.every((text) => inbox.texts.includes(text)), 'every later message');
        expect(inbox.queue.status).toBe('connected');
      } finally {
        await conn.close();
        await other.close();
      }
    }, 60_000);
  },
);
