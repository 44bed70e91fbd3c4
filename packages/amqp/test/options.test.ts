import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { inspect } from 'node:util';
import { BaseConnection, type MqError, packageErrors, waitForStatus } from '@mq/core/spi';
import { uniqueId } from '@mq/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { AmqpConnection, AmqpQueue, amqpBackend } from '../src/index.js';
import { brokerUrl, projectNode, rabbitmqctl, skipNote, until, useNode } from './broker.js';
import { newConnection } from './helpers.js';

// The connection-property checks read rabbitmqctl: they run on the amqp project's own RabbitMQ node.
const { node: projectBroker, skip } = projectNode();
if (projectBroker) useNode(projectBroker);

function invalidMessage(make: () => unknown): string {
  try {
    make();
  } catch (error) {
    expect((error as MqError).code).toBe('INVALID_OPTIONS');
    return (error as Error).message;
  }
  throw new Error('expected INVALID_OPTIONS');
}

/** A connection of some other backend. */
class OtherConnection extends BaseConnection {
  constructor() {
    super({
      errors: packageErrors('mq/other'),
      reconnectMillis: 1000,
      reconnectMaxMillis: 30_000,
      link: () => ({ open: async () => {}, close: async () => {} }),
    });
  }
}

describe('AMQP options', () => {
  it('a queue given something other than an AmqpConnection throws INVALID_OPTIONS at once', () => {
    const options = { name: 'q', isRecv: false };
    for (const notOurs of [{}, undefined, null, new OtherConnection()]) {
      expect(invalidMessage(() => new AmqpQueue(options, notOurs as never))).toMatch(
        /^\[mq\/amqp\] connection must be an AmqpConnection made by this backend, got /,
      );
    }
  });

  it('defaults: amqp://localhost, 3000 ms connect timeout, 1000 ms between reconnects', () => {
    const conn = new AmqpConnection();
    expect(conn.settings).toMatchObject({
      uri: 'amqp://localhost',
      connectTimeoutMillis: 3000,
      reconnectMillis: 1000,
      heartbeatSeconds: undefined,
      tls: false,
      connectionName: undefined,
    });
    expect(amqpBackend.schemes).toEqual(['amqp', 'amqps']);
    // Every capability but exactly-once moves: a copy and the ack of its original are two broker operations.
    const { movesExactlyOnce, ...others } = amqpBackend.capabilities;
    expect(movesExactlyOnce).toBe(false);
    expect(Object.values(others).every(Boolean)).toBe(true);
  });

  it('rejects bad connection options with INVALID_OPTIONS naming the field', () => {
    expect(invalidMessage(() => new AmqpConnection({ uri: 'mqtt://localhost' }))).toContain('uri scheme');
    expect(invalidMessage(() => new AmqpConnection({ heartbeatSeconds: -1 }))).toContain(
      '[mq/amqp] heartbeatSeconds must be an integer from 0 to 65535, got -1',
    );
    expect(invalidMessage(() => new AmqpConnection({ tls: { ca: 'x' } }))).toContain(
      'tls is only used with an amqps: uri',
    );
    expect(
      invalidMessage(() => new AmqpConnection({ uri: 'amqps://h', tls: { ca: 42 as never } })),
    ).toContain('tls.ca must be');
    expect(
      invalidMessage(() => new AmqpConnection({ uri: 'amqps://h', tls: { cafile: 'x' } as never })),
    ).toContain("unknown field 'cafile'");
    expect(invalidMessage(() => new AmqpConnection({ connectionName: 7 as never }))).toContain(
      'connectionName must be a string',
    );
  });

  it.each([
    ['heartbeat=abc', 'uri query parameter heartbeat must be an integer from 0 to 65535, got "abc"'],
    ['heartbeat=-1', 'uri query parameter heartbeat must be an integer from 0 to 65535, got "-1"'],
    ['heartbeat=65536', 'uri query parameter heartbeat must be an integer from 0 to 65535'],
    ['heartbeat=1.5', 'uri query parameter heartbeat must be'],
    ['heartbeat=', 'uri query parameter heartbeat must be'],
    ['heartbeat=%2010', 'uri query parameter heartbeat must be'],
    ['frameMax=-1', 'uri query parameter frameMax must be 0 or an integer from 4096 to 4294967295, got "-1"'],
    ['frameMax=4095', 'uri query parameter frameMax must be 0 or an integer from 4096'],
    ['frameMax=4294967296', 'uri query parameter frameMax must be'],
    ['frameMax=12abc', 'uri query parameter frameMax must be'],
    ['channelMax=65536', 'uri query parameter channelMax must be an integer from 0 to 65535'],
    ['channelMax=0x10', 'uri query parameter channelMax must be'],
    ['maxFrameSize=100', 'uri query parameter maxFrameSize must be 0 or an integer from 4096'],
    ['heartbeat=5&heartbeat=6', 'uri query parameter heartbeat is given more than once'],
    ['heartbeats=5', 'uri has an unknown query parameter "heartbeats"; known: heartbeat, channelMax'],
    ['frame_max=4096', 'uri has an unknown query parameter "frame_max"'],
  ])('rejects the URI query %s before amqplib sees it, naming the parameter', (query, text) => {
    const message = invalidMessage(() => new AmqpConnection({ uri: `amqp://u:s3cret@h/vh?${query}` }));
    expect(message).toContain(`[mq/amqp] ${text}`);
    expect(message).not.toContain('s3cret');
  });

  it('accepts the query parameters amqplib knows, within its limits', () => {
    const uri = 'amqp://h/vh?heartbeat=0&channelMax=65535&frameMax=0&maxFrameSize=4096&locale=en_US';
    expect(new AmqpConnection({ uri }).settings.uri).toBe(uri);
    const max = 'amqps://h?frameMax=4294967295&heartbeat=65535&channelMax=0';
    expect(new AmqpConnection({ uri: max }).settings.uri).toBe(max);
    expect(new AmqpConnection({ uri: 'amqp://h?heartbeat=10', heartbeatSeconds: 5 }).settings.uri).toBe(
      'amqp://h?heartbeat=5',
    );
  });

  it('rejects bad queue options: prefetch is from 1 to 65535 (default 100) and only for receivers; persistent is a boolean', () => {
    const conn = new AmqpConnection();
    expect(new AmqpQueue({ name: 'a', isRecv: true }, conn).options).toMatchObject({ prefetch: 100 });
    expect(invalidMessage(() => new AmqpQueue({ name: 'a', isRecv: false, prefetch: 5 }, conn))).toBe(
      '[mq/amqp] prefetch is for receivers only (isRecv: true), got 5 on a sender',
    );
    expect(invalidMessage(() => new AmqpQueue({ name: 'a', isRecv: true, prefetch: 0 }, conn))).toBe(
      '[mq/amqp] prefetch must be an integer from 1 to 65535, got 0',
    );
    expect(
      invalidMessage(() => new AmqpQueue({ name: 'a', isRecv: false, persistent: 'yes' as never }, conn)),
    ).toContain('persistent must be a boolean');
    expect(new AmqpQueue({ name: 'a', isRecv: false, persistent: true }, conn).persistent).toBe(true);
    expect(new AmqpQueue({ name: 'a', isRecv: false }, conn).persistent).toBe(false);
    expect(
      invalidMessage(() => amqpBackend.createQueue({ name: 'a', isRecv: false }, {} as never)),
    ).toContain('AmqpConnection');
  });

  it('never shows the password: not in settings.safeUri, not in errors', async () => {
    const conn = new AmqpConnection({ uri: 'amqp://user:s3cret@127.0.0.1:1/vh', reconnectMillis: 50 });
    expect(conn.settings.uri).toBe('amqp://user:***@127.0.0.1:1/vh');
    expect(JSON.stringify(conn)).not.toContain('s3cret');
    const { privateKey } = generateKeyPairSync('ec', {
      namedCurve: 'prime256v1',
      privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'key-pass' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const tlsConn = new AmqpConnection({
      uri: 'amqps://user:s3cret@127.0.0.1:1/vh',
      tls: { key: privateKey, passphrase: 'key-pass' },
    });
    for (const shown of [conn, tlsConn].map((c) =>
      inspect(c, { depth: 10, showHidden: true, getters: true }),
    )) {
      for (const secret of ['s3cret', privateKey.split('\n')[1] as string, 'key-pass']) {
        expect(shown).not.toContain(secret);
      }
    }
    const errors: MqError[] = [];
    conn.on('error', (error) => errors.push(error));
    conn.connect();
    await until(() => errors.length > 0, 'a failed attempt');
    await conn.close();
    expect(errors[0]!.message).toContain('***');
    expect(errors.map((e) => e.message).join()).not.toContain('s3cret');
  });
});

describe('AMQP connection behaviour', () => {
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  it.skipIf(skip !== undefined)(
    `asks the broker for heartbeatSeconds and names the connection (connection_name)${skipNote(skip)}`,
    async () => {
      const name = uniqueId('mq-amqp-heartbeat');
      const conn = newConnection({ heartbeatSeconds: 7, connectionName: name });
      conn.connect();
      try {
        await waitForStatus(conn, 'connected');
        const row = (await rabbitmqctl('list_connections', 'timeout', 'client_properties'))
          .split('\n')
          .find((line) => line.includes(`{"connection_name","${name}"}`));
        expect(row?.split('\t')[0]).toBe('7');
      } finally {
        await conn.close();
      }
    },
  );

  it.skipIf(skip !== undefined)(
    `the checked URI query parameters still reach the broker (heartbeat, channelMax, frameMax, locale)${skipNote(skip)}`,
    async () => {
      const name = uniqueId('mq-amqp-query');
      const url = new URL(brokerUrl());
      url.search = '?heartbeat=9&channelMax=100&frameMax=65536&locale=en_US';
      const conn = newConnection({ uri: url.toString(), connectionName: name });
      conn.connect();
      try {
        await waitForStatus(conn, 'connected');
        const row = (
          await rabbitmqctl('list_connections', 'timeout', 'channel_max', 'frame_max', 'client_properties')
        )
          .split('\n')
          .find((line) => line.includes(`{"connection_name","${name}"}`));
        expect(row?.split('\t').slice(0, 3)).toEqual(['9', '100', '65536']);
      } finally {
        await conn.close();
      }
    },
  );

  it('a server that accepts TCP but never speaks AMQP fails the attempt after connectTimeoutMillis', async () => {
    const server = createServer((socket) => sockets.push(socket));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const conn = new AmqpConnection({ uri: `amqp://127.0.0.1:${port}`, connectTimeoutMillis: 300 });
    const errors: MqError[] = [];
    conn.on('error', (error) => errors.push(error));
    const started = Date.now();
    conn.connect();
    await until(() => conn.status === 'disconnected', 'the attempt to fail');
    const took = Date.now() - started;
    await conn.close();
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(2000);
    expect(errors[0]!.message).toMatch(/took over 300 ms|ETIMEDOUT/);
  });

  it('amqps: against a plain AMQP port fails the attempt cleanly and close() resolves', async () => {
    const url = new URL(brokerUrl());
    const conn = new AmqpConnection({
      uri: `amqps://${url.host}`,
      connectTimeoutMillis: 1000,
      reconnectMillis: 100,
      tls: { rejectUnauthorized: false },
    });
    const errors: MqError[] = [];
    conn.on('error', (error) => errors.push(error));
    conn.connect();
    await until(() => errors.length > 0, 'a failed TLS attempt');
    await conn.close();
    expect(conn.status).toBe('closed');
    expect(errors[0]!.code).toBe('TLS_FAILED');
    expect(errors[0]!.message).toMatch(
      /TLS failed \(.*wrong version number.*\); check tls\.ca, the host name, and that the port is a TLS one/,
    );
    expect(errors[0]!.cause).toBeInstanceOf(Error);
  });
});

describe('queue types', () => {
  const conn = new AmqpConnection();

  it('takes queueType classic (the default) or quorum, and deliveryLimit only with quorum', () => {
    expect(new AmqpQueue({ name: 'q', isRecv: true }, conn).queueType).toBe('classic');
    expect(
      new AmqpQueue({ name: 'q', isRecv: false, queueType: 'quorum', deliveryLimit: 5 }, conn).queueType,
    ).toBe('quorum');
    expect(
      invalidMessage(() => new AmqpQueue({ name: 'q', isRecv: true, queueType: 'stream' as never }, conn)),
    ).toBe("[mq/amqp] queueType must be 'classic' or 'quorum', got \"stream\"");
    expect(invalidMessage(() => new AmqpQueue({ name: 'q', isRecv: true, deliveryLimit: 3 }, conn))).toBe(
      '[mq/amqp] deliveryLimit needs queueType \'quorum\', got queueType "classic"',
    );
    expect(
      invalidMessage(
        () => new AmqpQueue({ name: 'q', isRecv: true, queueType: 'quorum', deliveryLimit: 0 }, conn),
      ),
    ).toMatch(/deliveryLimit must be an integer from 1 to 2147483647, got 0/);
    expect(
      invalidMessage(
        () => new AmqpQueue({ name: 'q', isRecv: true, broadcast: true, queueType: 'quorum' }, conn),
      ),
    ).toBe(
      "[mq/amqp] queueType 'quorum' is for unicast queues: a broadcast receiver's queue is exclusive and temporary",
    );
  });
});

describe('authMechanism', () => {
  it("takes 'PLAIN' (the default) or 'EXTERNAL', which needs a client certificate", () => {
    expect(new AmqpConnection().settings.authMechanism).toBe('PLAIN');
    expect(invalidMessage(() => new AmqpConnection({ authMechanism: 'plain' as never }))).toBe(
      "[mq/amqp] authMechanism must be 'PLAIN' or 'EXTERNAL', got \"plain\"",
    );
    expect(
      invalidMessage(() => new AmqpConnection({ uri: 'amqps://h', authMechanism: 'EXTERNAL', tls: {} })),
    ).toBe(
      "[mq/amqp] authMechanism 'EXTERNAL' logs in with the TLS client certificate: give tls.cert and tls.key",
    );
  });
});

describe('URIs and TLS material that could never work are refused by the constructor', () => {
  it.each([
    ['amqp://u:p@h/vh#frag', 'uri must not have a #fragment'],
    ['amqp://u:p@h/#', 'uri must not have a #fragment'],
    ['amqp://u:s3cr%ZZet@h/', 'uri password has a malformed percent escape'],
    ['amqp://u:s3cr%E0%A4et@h/', 'uri password has a malformed percent escape'],
    ['amqp://u%ZZ:s3cret@h/', 'uri user has a malformed percent escape'],
  ])('%s is INVALID_OPTIONS (%s), never echoing the password', (uri, expected) => {
    const message = invalidMessage(() => new AmqpConnection({ uri }));
    expect(message).toContain(`[mq/amqp] ${expected}`);
    expect(message).not.toContain('s3cr');
  });

  it('a wrong TLS key passphrase is INVALID_OPTIONS naming tls.passphrase, never echoing it, never retried', () => {
    const { privateKey } = generateKeyPairSync('ec', {
      namedCurve: 'prime256v1',
      privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'right-pp' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const message = invalidMessage(
      () => new AmqpConnection({ uri: 'amqps://h', tls: { key: privateKey, passphrase: 'Wrong-pp-7' } }),
    );
    expect(message).toContain('[mq/amqp] tls.passphrase does not decrypt tls.key');
    expect(message).not.toContain('Wrong-pp-7');
    expect(message).not.toContain(privateKey.split('\n')[1]);
  });
});
