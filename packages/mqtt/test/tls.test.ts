import { inspect } from 'node:util';
import { type MqError, waitForStatus } from '@mq/core';
import {
  createTestCertificates,
  type MosquittoBroker,
  mosquittoMissing,
  opensslMissing,
  startMosquitto,
  type TestCertificates,
  uniqueId,
} from '@mq/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttConnection, type MqttConnectionOptions, MqttQueue } from '../src/index.js';
import { until } from './helpers.js';

// Two Mosquittos of this file's own with TLS listeners: one that takes clients without a certificate, one that
// requires a certificate signed by the test CA (mutual TLS). Certificates made here with openssl.
const missing = mosquittoMissing() ?? opensslMissing();
let pki: TestCertificates | undefined;
let open: MosquittoBroker | undefined;
let mutual: MosquittoBroker | undefined;
beforeAll(async () => {
  if (missing) return;
  pki = await createTestCertificates();
  const files = { ca: pki.ca.path, cert: pki.serverCert.path, key: pki.serverKey.path };
  open = await startMosquitto({ persistence: false, tls: files });
  mutual = await startMosquitto({ persistence: false, tls: { ...files, requireCertificate: true } });
}, 60_000);
afterAll(async () => {
  await open?.dispose();
  await mutual?.dispose();
  pki?.dispose();
});

/** The broker's `mqtts:` URL. */
function tlsUrlOf(broker: MosquittoBroker | undefined): string {
  return broker?.tlsUrl as string;
}

/** Connects and resolves with the first error, or `connected`; always closes. */
async function attempt(options: MqttConnectionOptions): Promise<MqError | 'connected'> {
  const conn = new MqttConnection({ reconnectMillis: 100, connectTimeoutMillis: 3000, ...options });
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

describe.skipIf(missing !== undefined)(`mqtts: TLS${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('connects with the CA and carries messages', async () => {
    const conn = new MqttConnection({ uri: tlsUrlOf(open), tls: { ca: (pki as TestCertificates).ca.pem } });
    conn.connect();
    await waitForStatus(conn, 'connected');
    const name = `mq-mqtt-test.tls.${uniqueId('q')}`;
    const got: string[] = [];
    const receiver = new MqttQueue({ name, isRecv: true, reliable: true }, conn);
    receiver.setMsgHandler(async (_queue, message) => {
      got.push(message.payload.toString());
      await message.ack();
    });
    receiver.connect();
    await waitForStatus(receiver, 'connected');
    const sender = new MqttQueue({ name, isRecv: false, reliable: true }, conn);
    sender.connect();
    await waitForStatus(sender, 'connected');
    await sender.sendMsg(Buffer.from('over tls'));
    await until(() => got.length === 1, 'the message');
    await conn.close();
  });

  it('a server certificate the CA did not sign is TLS_FAILED saying why', async () => {
    const error = await attempt({ uri: tlsUrlOf(open), tls: { ca: (pki as TestCertificates).otherCa.pem } });
    expect(error).toMatchObject({ code: 'TLS_FAILED' });
    expect((error as MqError).message).toMatch(
      /TLS failed \(.*(self[- ]signed|unable to verify|certificate).*\); check tls\.ca/i,
    );
  });

  it('Object.prototype.rejectUnauthorized = false turns no check off: with tls absent, or given without rejectUnauthorized, a certificate no given CA signed is TLS_FAILED', async () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.rejectUnauthorized = false;
    try {
      // MQTT 3.1.1: mqtt.js copies MQTT 5's CONNECT properties into an object that mqtt-packet walks with
      // for...in, so under this pollution an MQTT 5 CONNECT cannot be written at all (it fails closed).
      // Absent: Node's default CAs, which never signed the test CA.
      expect(await attempt({ uri: tlsUrlOf(open), protocolVersion: 4 })).toMatchObject({
        code: 'TLS_FAILED',
      });
      expect(
        await attempt({
          uri: tlsUrlOf(open),
          protocolVersion: 4,
          tls: { ca: (pki as TestCertificates).otherCa.pem },
        }),
      ).toMatchObject({ code: 'TLS_FAILED' });
    } finally {
      delete proto.rejectUnauthorized;
    }
  });

  it('a host name the certificate does not name is TLS_FAILED', async () => {
    const error = await attempt({
      uri: tlsUrlOf(open),
      tls: { ca: (pki as TestCertificates).ca.pem, servername: 'not-this-host.example' },
    });
    expect(error).toMatchObject({ code: 'TLS_FAILED' });
    expect((error as MqError).message).toMatch(/altnames|host ?name|does not match/i);
  });

  it('mutual TLS: a broker that requires a client certificate refuses a client without one, and takes one with it', async () => {
    const certs = pki as TestCertificates;
    const without = await attempt({ uri: tlsUrlOf(mutual), tls: { ca: certs.ca.pem } });
    expect(without).toMatchObject({ code: 'TLS_FAILED' });
    const conn = new MqttConnection({
      uri: tlsUrlOf(mutual),
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
    expect(errors).toEqual([]);
    const shown = inspect(conn, { showHidden: true, depth: 20 });
    expect(shown).not.toContain(certs.clientKeyPassphrase);
    expect(shown).not.toContain('ENCRYPTED PRIVATE KEY');
    await conn.close();
  });
});
