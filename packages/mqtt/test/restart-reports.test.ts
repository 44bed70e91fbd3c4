import { type MqError, waitForStatus } from '@mq/core';
import { type MosquittoBroker, mosquittoMissing, startMosquitto, uniqueId } from '@mq/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connection, queueName, receiver, until } from './helpers.js';

// Issue #25.10 (MQTT side), on a Mosquitto of this file's own without persistence, restarted: a persistent session
// the broker did not keep (CONNACK session present false) is reported, and a link dropped by the restart soon
// after connecting no longer suggests a client-id clash (the broker was not taking connections).
const missing = mosquittoMissing();
let broker: MosquittoBroker | undefined;
beforeAll(async () => {
  if (!missing) broker = await startMosquitto({ persistence: false });
}, 30_000);
afterAll(() => broker?.dispose());

describe.skipIf(missing !== undefined)(
  `a broker restart that loses the session${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    it.each([5, 4] as const)(
      'reports the lost persistent session once, and the young link it dropped without blaming a clientId (protocolVersion %i)',
      async (protocolVersion) => {
        const clientId = uniqueId('restart');
        const conn = await connection({
          uri: broker!.url,
          clientId,
          cleanSession: false,
          protocolVersion,
          reconnectMillis: 200,
        });
        const errors: MqError[] = [];
        conn.on('error', (error) => errors.push(error));
        const { queue } = await receiver(conn, { name: queueName('restart'), reliable: true });
        expect(conn.sessionPresent).toBe(false);
        await broker!.stop();
        await until(() => errors.some((error) => error.code === 'CONNECTION_LOST'), 'the lost link');
        await broker!.start();
        await waitForStatus(conn, 'connected', { timeoutMillis: 15_000 });
        await waitForStatus(queue, 'connected', { timeoutMillis: 15_000 });
        const lost = errors.find((error) => error.code === 'CONNECTION_LOST');
        expect(lost?.message).not.toContain('clientId');
        await until(
          () => errors.some((error) => /did not resume the persistent session/.test(error.message)),
          'the report of the lost session',
        );
        const reports = errors.filter((error) => /did not resume the persistent session/.test(error.message));
        expect(reports).toHaveLength(1);
        expect(reports[0]?.message).toContain(`clientId '${clientId}'`);
      },
      30_000,
    );
  },
);
