import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:net';
import { inspect } from 'node:util';
import { MqError, waitForStatus } from '@mq/core';
import { Aedes } from 'aedes';
import type { IClientOptions } from 'mqtt';
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_SHARED_PREFIX, MqttConnection, MqttQueue, mqttBackend } from '../src/index.js';
import { until } from './helpers.js';

/** What the backend handed to mqtt.js's `connect`, to check that secrets still reach it. */
const mqttConnects = vi.hoisted(() => [] as Array<{ url: string; options: IClientOptions }>);
/** When set, what the client's `connect()` throws, as Node's `tls.connect` throws before any socket exists. */
const connectThrows = vi.hoisted(() => ({ error: undefined as Error | undefined }));
vi.mock('mqtt', async (importOriginal) => {
  const actual = await importOriginal<typeof import('mqtt')>();
  return {
    ...actual,
    connect: (url: string, options: IClientOptions) => {
      mqttConnects.push({ url, options });
      const client = actual.connect(url, options);
      const thrown = connectThrows.error;
      if (thrown) {
        client.connect = () => {
          throw thrown;
        };
      }
      return client;
    },
  };
});

/** An encrypted private key (passphrase `key-pass`): Node's TLS loads it only with its passphrase. */
const ENCRYPTED_KEY = generateKeyPairSync('ec', {
  namedCurve: 'prime256v1',
  privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'key-pass' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
}).privateKey;
/** A line of the key's PEM body, to look for in what must not show it. */
const KEY_LINE = ENCRYPTED_KEY.split('\n')[1] as string;

function invalidMessage(make: () => unknown): string {
  try {
    make();
  } catch (error) {
    expect(MqError.hasCode(error, 'INVALID_OPTIONS')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected INVALID_OPTIONS');
}

describe('connection options', () => {
  it('fill in defaults and never mutate the object passed in: two connections never share a random clientId', () => {
    const options = { uri: 'mqtt://127.0.0.1:1883' };
    const a = new MqttConnection(options);
    const b = new MqttConnection(options);
    expect(options).toEqual({ uri: 'mqtt://127.0.0.1:1883' });
    expect(a.clientId).toMatch(/^mq-[0-9a-f]{16}$/);
    expect(a.clientId).not.toBe(b.clientId);
    expect(a.settings).toMatchObject({
      connectTimeoutMillis: 3000,
      reconnectMillis: 1000,
      cleanSession: true,
      protocolVersion: 5,
      sessionExpirySeconds: 0,
      keepaliveSeconds: 60,
    });
    expect(new MqttConnection().settings.url).toBe('mqtt://localhost');
  });

  it('a persistent session defaults to a session that never expires (as in MQTT 3.1.1)', () => {
    const conn = new MqttConnection({ clientId: 'fixed', cleanSession: false });
    expect(conn.settings.sessionExpirySeconds).toBe(4_294_967_295);
  });

  it.each([
    [{ clientId: '' }, 'clientId'],
    [{ clientId: 'has space' }, 'clientId'],
    [{ clientId: 'x'.repeat(257) }, 'clientId'],
    [{ clientId: 7 }, 'clientId'],
    [{ cleanSession: false }, 'cleanSession false needs a fixed clientId'],
    [{ cleanSession: 'no' }, 'cleanSession'],
    [{ protocolVersion: 3 }, 'protocolVersion'],
    [{ protocolVersion: 4, receiveMaximum: 10 }, 'receiveMaximum needs protocolVersion 5'],
    [{ protocolVersion: 4, sessionExpirySeconds: 10 }, 'sessionExpirySeconds needs protocolVersion 5'],
    [{ receiveMaximum: 0 }, 'receiveMaximum'],
    [{ receiveMaximum: 65536 }, 'receiveMaximum'],
    [{ sessionExpirySeconds: -1 }, 'sessionExpirySeconds'],
    [{ keepaliveSeconds: 1.5 }, 'keepaliveSeconds'],
    [{ uri: 'amqp://localhost' }, 'uri scheme'],
    [{ tls: { rejectUnauthorised: false } }, "unknown field 'rejectUnauthorised'"],
    [{ tls: { ca: 42 } }, 'tls.ca'],
  ])('reject %o naming the field', (options, text) => {
    const message = invalidMessage(() => new MqttConnection(options as never));
    expect(message).toContain('[mq/mqtt]');
    expect(message).toContain(text);
  });

  it.each([
    [{ uri: 'mqtt://localhost', tls: {} }, 'tls is only used with an mqtts: or wss: uri, got mqtt:'],
    [
      { uri: 'ws://localhost/mqtt', tls: { rejectUnauthorized: false } },
      'tls is only used with an mqtts: or wss: uri, got ws:',
    ],
    [{ uri: 'mqtt://localhost/topic' }, 'uri path is only used with ws: and wss:, got "/topic" on mqtt:'],
    [{ uri: 'mqtts://localhost:8883/a/b' }, 'uri path is only used with ws: and wss:'],
    [{ uri: 'mqtt://localhost?keepalive=10' }, 'uri query is only used with ws: and wss:, got one on mqtt:'],
    [{ uri: 'mqtts://localhost/?x' }, 'uri query is only used with ws: and wss:'],
    [{ uri: 'mqtt://localhost?' }, 'uri query'],
    [{ uri: 'mqtt://localhost#frag' }, 'uri must not have a #fragment'],
    [{ uri: 'wss://localhost/mqtt#frag' }, 'uri must not have a #fragment'],
    [{ uri: 'ws://localhost/mqtt?clientId=other' }, 'uri must not have a clientId query parameter'],
  ])('reject URI parts it would ignore: %o', (options, text) => {
    const message = invalidMessage(() => new MqttConnection(options as never));
    expect(message).toContain(`[mq/mqtt] ${text}`);
  });

  it('accept a path and query on ws: and wss:, tls on mqtts: and wss:, and a bare trailing slash anywhere', () => {
    expect(new MqttConnection({ uri: 'ws://localhost:8080/mqtt?token=t' }).settings.url).toBe(
      'ws://localhost:8080/mqtt?token=t',
    );
    expect(new MqttConnection({ uri: 'wss://h/mqtt', tls: { rejectUnauthorized: false } }).settings.url).toBe(
      'wss://h/mqtt',
    );
    expect(new MqttConnection({ uri: 'mqtts://h', tls: { servername: 'x' } }).settings.url).toBe('mqtts://h');
    expect(new MqttConnection({ uri: 'mqtt://h:1883/' }).settings.url).toBe('mqtt://h:1883/');
  });

  it.each([
    ['mqtt://u:s3cr%ZZet@localhost', 'uri password has a malformed percent escape', 's3cr'],
    ['mqtt://u:s3cr%E0%A4et@localhost', 'uri password has a malformed percent escape', 's3cr'],
    ['mqtt://us%ZZer:s3cret@localhost', 'uri user has a malformed percent escape', 's3cret'],
  ])(
    'reject a malformed percent escape in %s with INVALID_OPTIONS, never echoing the password',
    (uri, text, secret) => {
      const message = invalidMessage(() => new MqttConnection({ uri }));
      expect(message).toContain(`[mq/mqtt] ${text}`);
      expect(message).toContain(':***@localhost');
      expect(message).not.toContain(secret);
    },
  );

  it('never show a password: messages and settings redact it', () => {
    const conn = new MqttConnection({ uri: 'mqtts://user:s%40cret@broker.example:8883' });
    expect(conn.settings.username).toBe('user');
    expect(conn.settings.safeUri).toBe('mqtts://user:***@broker.example:8883');
    expect(conn.settings.url).toBe('mqtts://broker.example:8883');
    const message = invalidMessage(() => new MqttConnection({ uri: 'mqtt://u:secret@[bad' }));
    expect(message).not.toContain('secret');
  });

  it('settings are safe to log: no password, TLS key or passphrase in JSON, inspect, keys or a spread copy', () => {
    const conn = new MqttConnection({
      uri: 'mqtts://user:s%40cret@broker.example:8883',
      tls: { key: ENCRYPTED_KEY, passphrase: 'key-pass', rejectUnauthorized: false },
    });
    const shown = [
      JSON.stringify(conn.settings),
      inspect(conn.settings, { depth: 5 }),
      inspect(conn, { depth: 5 }),
      inspect(conn, { depth: 10, showHidden: true, getters: true }),
      inspect(conn.settings, { depth: 10, showHidden: true, getters: true }),
      JSON.stringify({ ...conn.settings }),
    ];
    for (const text of shown) {
      expect(text).toContain('broker.example');
      for (const secret of ['s@cret', 's%40cret', KEY_LINE, 'key-pass']) {
        expect(text).not.toContain(secret);
      }
    }
    expect(Object.getOwnPropertyNames(conn.settings)).not.toContain('password');
    expect(conn.settings.tls).toBe(true);
  });

  it('mqtt.js gets the password as a Buffer and the TLS key only inside a secure context, never the key or its passphrase', async () => {
    const conn = new MqttConnection({
      uri: 'mqtts://user:s%40cret@127.0.0.1:1',
      reconnectMillis: 60_000,
      connectTimeoutMillis: 1000,
      tls: { key: ENCRYPTED_KEY, passphrase: 'key-pass', rejectUnauthorized: false },
    });
    const errors: MqError[] = [];
    conn.on('error', (error) => errors.push(error));
    const before = mqttConnects.length;
    conn.connect();
    await until(() => errors.length > 0, 'the attempt to fail (nothing listens on port 1)');
    await conn.close();
    const call = mqttConnects[before];
    expect(call?.url).toBe('mqtts://127.0.0.1:1');
    // A Buffer: mqtt-packet logs the strings it writes (DEBUG=mqtt-packet:*), never a Buffer.
    expect(Buffer.isBuffer(call?.options.password)).toBe(true);
    expect(String(call?.options.password)).toBe('s@cret');
    expect(call?.options).toMatchObject({ username: 'user', rejectUnauthorized: false });
    const given = (call?.options ?? {}) as { secureContext?: object };
    expect(given.secureContext?.constructor.name).toBe('SecureContext');
    for (const field of ['key', 'passphrase', 'pfx', 'cert', 'ca'])
      expect(call?.options).not.toHaveProperty(field);
    expect(errors[0]?.message).toContain(
      'cannot connect to mqtts://user:***@127.0.0.1:1: connect ECONNREFUSED',
    );
    expect(errors.map((e) => e.message).join()).not.toMatch(/s@cret|s%40cret|key-pass/);
  });

  it('on wss: the secure context goes to the WebSocket (wsOptions), where mqtt.js passes it on', () => {
    const before = mqttConnects.length;
    const conn = new MqttConnection({
      uri: 'wss://127.0.0.1:1/mqtt',
      tls: { key: ENCRYPTED_KEY, passphrase: 'key-pass', servername: 'broker' },
    });
    conn.on('error', () => {});
    conn.connect();
    const call = mqttConnects[before];
    expect(call?.options.wsOptions).toMatchObject({ servername: 'broker', rejectUnauthorized: true });
    const wsOptions = (call?.options.wsOptions ?? {}) as { secureContext?: object };
    expect(wsOptions.secureContext?.constructor.name).toBe('SecureContext');
    expect(call?.options).not.toHaveProperty('key');
    return conn.close();
  });

  it('an OpenSSL error thrown when a link starts (ERR_OSSL_*) is TLS_FAILED naming the package and the address, reported once', async () => {
    connectThrows.error = Object.assign(new Error('error:1C800064:Provider routines::bad decrypt'), {
      code: 'ERR_OSSL_BAD_DECRYPT',
    });
    const conn = new MqttConnection({ uri: 'mqtts://user:s3cret@127.0.0.1:1', reconnectMillis: 20 });
    const errors: MqError[] = [];
    conn.on('error', (error) => errors.push(error));
    const before = mqttConnects.length;
    try {
      conn.connect();
      // Several attempts, one report: retrying cannot fix it.
      await until(() => mqttConnects.length - before >= 4, 'four attempts');
    } finally {
      connectThrows.error = undefined;
      await conn.close();
    }
    expect(errors).toHaveLength(1);
    expect(errors[0]?.code).toBe('TLS_FAILED');
    expect(errors[0]?.message).toMatch(
      /^\[mq\/mqtt\] cannot connect to mqtts:\/\/user:\*\*\*@127\.0\.0\.1:1: TLS failed \(.*bad decrypt/,
    );
    expect(errors[0]?.message).not.toContain('s3cret');
  });

  it('a wrong TLS key passphrase is INVALID_OPTIONS from the constructor naming tls.passphrase, never echoing it', () => {
    const message = invalidMessage(
      () =>
        new MqttConnection({
          uri: 'mqtts://127.0.0.1:1',
          tls: { key: ENCRYPTED_KEY, passphrase: 'Wrong-pp-7' },
        }),
    );
    expect(message).toContain('[mq/mqtt] tls.passphrase does not decrypt tls.key');
    expect(message).not.toContain('Wrong-pp-7');
  });

  it('a user and password in the URI authenticate with a broker that checks them', async () => {
    const broker = await Aedes.createBroker({
      authenticate: (_client, username, password, done) =>
        done(null, username === 'user' && password?.toString() === 's@cret:%'),
    });
    const server = createServer(broker.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const good = new MqttConnection({
      uri: `mqtt://user:s%40cret%3A%25@127.0.0.1:${port}`,
      protocolVersion: 4,
    });
    const bad = new MqttConnection({
      uri: `mqtt://user:wrong-pw@127.0.0.1:${port}`,
      protocolVersion: 4,
      reconnectMillis: 60_000,
    });
    const refusals: MqError[] = [];
    bad.on('error', (error) => refusals.push(error));
    try {
      good.connect();
      await waitForStatus(good, 'connected');
      bad.connect();
      await until(() => refusals.length > 0, 'the wrong password to be refused');
      expect(bad.status).not.toBe('connected');
      expect(refusals[0]?.message).toContain('user:***@');
      expect(refusals.map((e) => e.message).join()).not.toContain('wrong-pw');
    } finally {
      await Promise.all([good.close(), bad.close()]);
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('the backend serves mqtt, mqtts, ws and wss URIs', () => {
    expect(mqttBackend.schemes).toEqual(['mqtt', 'mqtts', 'ws', 'wss']);
    expect(mqttBackend.capabilities).toEqual({
      broadcast: true,
      broadcastIsolated: false,
      nackRequeue: true,
      redeliverUnacked: false,
      retainUnicast: false,
      prefetch: false,
      multipleAddresses: true,
      sameConnectionReceivers: false,
      metadata: true,
      deadLetter: true,
      countsDeliveries: true,
      movesExactlyOnce: false,
      retriesBehind: false,
      broadcastRedelivery: true,
      topicRouting: true,
      requestReply: true,
    });
  });

  it('refuses deadLetter on an MQTT 3.1.1 connection (no user properties to say why), when the queue is made', () => {
    const v311 = new MqttConnection({ protocolVersion: 4 });
    expect(
      () =>
        new MqttQueue(
          { name: 'jobs', isRecv: true, reliable: true, maxDeliveries: 3, deadLetter: 'jobs.dead' },
          v311,
        ),
    ).toThrow(
      "[mq/mqtt] queue 'jobs' cannot move messages to a dead-letter queue (deadLetter 'jobs.dead'): MQTT 3.1.1 has no user properties to say why (connect with protocolVersion 5)",
    );
  });
});

describe('queue options', () => {
  const conn = new MqttConnection();

  it('unicast receivers subscribe through the default shared group, broadcast ones to the name', () => {
    expect(DEFAULT_SHARED_PREFIX).toBe('$share/mq/');
    expect(new MqttQueue({ name: 'a.b', isRecv: true }, conn).topicFilter).toBe('$share/mq/a.b');
    expect(new MqttQueue({ name: 'a.b', isRecv: true, broadcast: true }, conn).topicFilter).toBe('a.b');
    const general = new MqttQueue({ name: 'a', isRecv: true, sharedPrefix: '$share/general-mq/' }, conn);
    expect(general.topicFilter).toBe('$share/general-mq/a');
    expect(new MqttQueue({ name: 'a', isRecv: true, sharedPrefix: '$queue/' }, conn).topicFilter).toBe(
      '$queue/a',
    );
    expect(new MqttQueue({ name: 'a', isRecv: true, sharedPrefix: '' }, conn).topicFilter).toBe('a');
  });

  it.each(['$share/', '$share//', '$share/g', 'share/g/', '$share/a/b/', '$share/+/', 42])(
    'reject sharedPrefix %o',
    (sharedPrefix) => {
      const message = invalidMessage(
        () => new MqttQueue({ name: 'a', isRecv: true, sharedPrefix } as never, conn),
      );
      expect(message).toContain('sharedPrefix');
    },
  );

  it('a queue needs a connection made by this backend', () => {
    expect(() => mqttBackend.createQueue({ name: 'a', isRecv: false }, {} as never)).toThrow(
      /MqttConnection/,
    );
    for (const notOurs of [{}, undefined, null]) {
      expect(invalidMessage(() => new MqttQueue({ name: 'a', isRecv: false }, notOurs as never))).toMatch(
        /^\[mq\/mqtt\] connection must be a MqttConnection made by this backend, got /,
      );
    }
  });
});
