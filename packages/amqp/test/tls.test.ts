import { inspect } from 'node:util';
import { type MqError, waitForStatus } from '@mq/core';
import {
  createTestCertificates,
  opensslMissing,
  type RabbitNode,
  rabbitmqMissing,
  startRabbitNode,
  type TestCertificates,
  uniqueId,
} from '@mq/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AmqpConnection, type AmqpConnectionOptions, AmqpQueue } from '../src/index.js';
import { until } from './broker.js';

// A RabbitMQ node of this file's own with a TLS listener (verify_peer) and the EXTERNAL mechanism, and a CA,
// server and client certificates made here with openssl.
const missing = rabbitmqMissing() ?? opensslMissing();
let pki: TestCertificates | undefined;
let node: RabbitNode | undefined;
beforeAll(async () => {
  if (missing) return;
  pki = await createTestCertificates();
  node = await startRabbitNode({
    tls: { ca: pki.ca.path, cert: pki.serverCert.path, key: pki.serverKey.path },
    plugins: ['rabbitmq_auth_mechanism_ssl'],
  });
  // EXTERNAL logs in as the certificate's common name: that user must exist (its password is never used).
  await node.ctl('add_user', pki.clientName, uniqueId('unused'));
  await node.ctl('set_permissions', '-p', '/', pki.clientName, '.*', '.*', '.*');
}, 120_000);
afterAll(async () => {
  await node?.dispose();
  pki?.dispose();
});

/** The TLS URL of the node, with its host as given (127.0.0.1) and optionally without credentials. */
function tlsUrl(credentials = true): string {
  const url = new URL(node?.tlsUrl as string);
  if (!credentials) {
    url.username = '';
    url.password = '';
  }
  return url.toString();
}

/** Connects and resolves with the first error, or `connected`; always closes. */
async function attempt(options: AmqpConnectionOptions): Promise<MqError | 'connected'> {
  const conn = new AmqpConnection({ reconnectMillis: 100, connectTimeoutMillis: 3000, ...options });
  const errors: MqError[] = [];
  conn.on('error', (error) => errors.push(error));
  conn.connect();
  try {
    await until(() => errors.length > 0 || conn.status === 'connected', 'the first attempt');
    return conn.status === 'connected' ? 'connected' : (errors[0] as MqError);
  } finally {
    await conn.close();
  }
}

describe.skipIf(missing !== undefined)(`amqps: TLS${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('connects with the CA and carries messages; nothing secret shows in inspect', async () => {
    const certs = pki as TestCertificates;
    const conn = new AmqpConnection({
      uri: tlsUrl(),
      tls: {
        ca: certs.ca.pem,
        cert: certs.clientCert.pem,
        key: certs.clientKey.pem,
        passphrase: certs.clientKeyPassphrase,
      },
    });
    conn.connect();
    await waitForStatus(conn, 'connected');
    const name = `mq-amqp-test.tls.${uniqueId('q')}`;
    const got: string[] = [];
    const receiver = new AmqpQueue({ name, isRecv: true }, conn);
    receiver.setMsgHandler(async (_queue, message) => {
      got.push(message.payload.toString());
      await message.ack();
    });
    receiver.connect();
    await waitForStatus(receiver, 'connected');
    const sender = new AmqpQueue({ name, isRecv: false, reliable: true }, conn);
    sender.connect();
    await waitForStatus(sender, 'connected');
    await sender.sendMsg(Buffer.from('over tls'));
    await until(() => got.length === 1, 'the message');
    expect(got).toEqual(['over tls']);
    const shown = inspect(conn, { showHidden: true, depth: 20 });
    expect(shown).not.toContain(certs.clientKeyPassphrase);
    expect(shown).not.toContain('ENCRYPTED PRIVATE KEY');
    expect(shown).not.toContain('guest:guest');
    await conn.close();
  });

  it('a server certificate the CA did not sign is TLS_FAILED saying why', async () => {
    const error = await attempt({ uri: tlsUrl(), tls: { ca: (pki as TestCertificates).otherCa.pem } });
    expect(error).toMatchObject({ code: 'TLS_FAILED' });
    expect((error as MqError).message).toMatch(
      /TLS failed \(.*(self[- ]signed|unable to verify|certificate).*\); check tls\.ca/i,
    );
  });

  it('Object.prototype.rejectUnauthorized = false turns no check off: with tls absent, or given without rejectUnauthorized, a certificate no given CA signed is TLS_FAILED', async () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.rejectUnauthorized = false;
    try {
      // Absent: Node's default CAs, which never signed the test CA.
      expect(await attempt({ uri: tlsUrl() })).toMatchObject({ code: 'TLS_FAILED' });
      expect(
        await attempt({ uri: tlsUrl(), tls: { ca: (pki as TestCertificates).otherCa.pem } }),
      ).toMatchObject({
        code: 'TLS_FAILED',
      });
    } finally {
      delete proto.rejectUnauthorized;
    }
  });

  it('a host name the certificate does not name is TLS_FAILED', async () => {
    const error = await attempt({
      uri: tlsUrl(),
      tls: { ca: (pki as TestCertificates).ca.pem, servername: 'not-this-host.example' },
    });
    expect(error).toMatchObject({ code: 'TLS_FAILED' });
    expect((error as MqError).message).toMatch(/altnames|host ?name|does not match/i);
  });

  it('mutual TLS: EXTERNAL logs in as the client certificate, with no password anywhere', async () => {
    const certs = pki as TestCertificates;
    const connectionName = uniqueId('mq-amqp-external');
    const conn = new AmqpConnection({
      uri: tlsUrl(false),
      authMechanism: 'EXTERNAL',
      connectionName,
      tls: {
        ca: certs.ca.pem,
        cert: certs.clientCert.pem,
        key: certs.clientKey.pem,
        passphrase: certs.clientKeyPassphrase,
      },
    });
    const errors: MqError[] = [];
    conn.on('error', (error) => errors.push(error));
    conn.connect();
    await waitForStatus(conn, 'connected');
    const rows = await (node as RabbitNode).ctl('list_connections', 'user', 'client_properties');
    expect(rows.split('\n').find((row) => row.includes(connectionName))).toMatch(
      new RegExp(`^${certs.clientName}\\t`),
    );
    expect(errors).toEqual([]);
    await conn.close();
  });

  it('EXTERNAL without a client certificate is refused when the connection is made', () => {
    expect(() => new AmqpConnection({ uri: tlsUrl(false), authMechanism: 'EXTERNAL', tls: {} })).toThrow(
      "authMechanism 'EXTERNAL' logs in with the TLS client certificate: give tls.cert and tls.key",
    );
  });
});
