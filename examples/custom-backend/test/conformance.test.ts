import { runContract, uniqueId, unreachableUrl } from '@mq/testkit';
import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { type RedisConnection, redisBackend } from '../src/index.js';
import { redisCases } from './redis-cases.js';

// A real Redis (MQ_TEST_REDIS_URL, else 127.0.0.1:6379). Every key of this run starts with its own prefix,
// so parallel runs never meet, and afterAll deletes them all.
const uri = process.env.MQ_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const keyPrefix = `${uniqueId('mqtest')}:`;
const admin = new Redis(uri, { lazyConnect: true });
admin.on('error', () => {});

// #region readme
runContract(
  {
    backend: redisBackend,
    connectionOptions: () => ({ uri, keyPrefix }),
    unreachableConnectionOptions: () => ({ uri: unreachableUrl('redis'), reconnectMillis: 50 }),
    faults: {
      // Redis cuts the command link as a network failure would; only this connection's own link is killed.
      dropConnection: async (connection) => {
        await admin.client('KILL', 'ID', String((connection as RedisConnection).clientId));
      },
      // The contract reaches Redis through a proxy it freezes: sends must time out, close() must still resolve.
      silentBroker: {
        address: { host: new URL(uri).hostname, port: Number(new URL(uri).port || 6379) },
        connectionOptions: (proxyPort) => ({
          uri: `redis://127.0.0.1:${proxyPort}`,
          keyPrefix,
          connectTimeoutMillis: 1000,
        }),
      },
    },
  },
  { additionalCases: redisCases(admin, keyPrefix) },
);
// #endregion readme

afterAll(async () => {
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await admin.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await admin.quit();
});
