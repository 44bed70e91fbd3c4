import { type MqError, waitForStatus } from '@mq/core';
import { mqttTestUrl, uniqueId } from '@mq/testkit';
import { connectAsync } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { connection, queueName, receiver, sendAll, sender, until } from './helpers.js';

/** Connects a plain client with `clientId`, which makes the broker drop our link, then disconnects it. */
async function kick(clientId: string, protocolVersion: 4 | 5): Promise<void> {
  const intruder = await connectAsync(mqttTestUrl(), { clientId, protocolVersion, reconnectPeriod: 0 });
  intruder.on('error', () => {});
  await intruder.endAsync(true);
}

function delays(errors: MqError[]): number[] {
  return errors.map((error) => Number(/reconnecting in (\d+) ms/.exec(error.message)?.[1]));
}

describe.each([5, 4] as const)(
  'another client takes the clientId over (protocolVersion %i)',
  (protocolVersion) => {
    it('reports CONNECTION_LOST, backs off instead of fighting, recovers and keeps working', async () => {
      const clientId = uniqueId('kicked');
      const conn = await connection({ clientId, protocolVersion, reconnectMillis: 50 });
      const errors: MqError[] = [];
      conn.on('error', (error) => errors.push(error));
      const name = queueName('kick');
      const { queue, inbox } = await receiver(conn, { name, reliable: true });
      for (let round = 1; round <= 3; round += 1) {
        await kick(clientId, protocolVersion);
        await until(() => errors.length >= round, `lost link number ${round}`);
        await waitForStatus(conn, 'connected');
      }
      for (const error of errors) expect(error.code).toBe('CONNECTION_LOST');
      // Mosquitto 2.0 closes the socket without a DISCONNECT (reason 142), so the message names the likely cause.
      for (const error of errors) expect(error.message).toContain(`clientId '${clientId}'`);
      // Each loss soon after connecting doubles the delay, jittered into the top fifth: 50, 80-100, 160-200 ms.
      const [first, second, third] = delays(errors);
      expect(first).toBe(50);
      expect(second).toBeGreaterThanOrEqual(80);
      expect(second).toBeLessThanOrEqual(100);
      expect(third).toBeGreaterThanOrEqual(160);
      expect(third).toBeLessThanOrEqual(200);
      await waitForStatus(queue, 'connected');
      await sendAll(await sender(await connection(), { name, reliable: true }), ['after']);
      await until(() => inbox.texts.includes('after'), 'a message after the takeovers');
    });
  },
);

describe('two mq connections with the same clientId', () => {
  it('do not fight in a tight loop: each one backs off further after every loss', async () => {
    const clientId = uniqueId('twins');
    const first = await connection({ clientId, reconnectMillis: 20 });
    const errors: MqError[][] = [[], []];
    first.on('error', (error) => errors[0]!.push(error));
    const second = await connection({ clientId, reconnectMillis: 20 });
    second.on('error', (error) => errors[1]!.push(error));
    await until(() => errors[0]!.length >= 4 && errors[1]!.length >= 2, 'several takeovers', 15_000);
    await second.close();
    const mine = delays(errors[0]!);
    for (let i = 1; i < mine.length; i += 1) expect(mine[i]!).toBeGreaterThan(mine[i - 1]!);
    await waitForStatus(first, 'connected', { timeoutMillis: 10_000 });
  });
});
