import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable, run } from './tools.js';

/** A PEM file of a test PKI: its path (for a broker's config) and its text (for a client's `tls` option). */
export interface PemFile {
  /** Where it is on disk. */
  path: string;
  /** Its PEM text. */
  pem: string;
}

/** A throwaway PKI for TLS tests, see {@link createTestCertificates}. */
export interface TestCertificates {
  /** The CA that signed the server and client certificates. */
  ca: PemFile;
  /** The server certificate, for `127.0.0.1` and `localhost`. */
  serverCert: PemFile;
  /** Its private key (unencrypted: brokers read it). */
  serverKey: PemFile;
  /** A client certificate with common name {@link TestCertificates.clientName}. */
  clientCert: PemFile;
  /** Its private key, encrypted with {@link TestCertificates.clientKeyPassphrase}. */
  clientKey: PemFile;
  /** The passphrase of the client key. */
  clientKeyPassphrase: string;
  /** The client certificate's common name (RabbitMQ's EXTERNAL mechanism logs in as this user). */
  clientName: string;
  /** Another CA, which signed nothing here: a client that trusts only it must refuse the server. */
  otherCa: PemFile;
  /** Deletes every file; idempotent. */
  dispose(): void;
}

/** Why test certificates cannot be made here, or undefined when they can. */
export function opensslMissing(): string | undefined {
  return findExecutable('openssl') ? undefined : 'openssl is not installed';
}

/**
 * Makes a CA, a server certificate for `127.0.0.1` and `localhost`, a client certificate (encrypted key) and an
 * unrelated CA, with `openssl`, in a folder of their own that brokers can read. For TLS tests only: short keys
 * are not used, but nothing here is kept secret.
 */
export async function createTestCertificates(): Promise<TestCertificates> {
  const openssl = findExecutable('openssl');
  if (!openssl) throw new Error('[mq/testkit] cannot make test certificates: openssl is not installed');
  const folder = mkdtempSync(join(tmpdir(), 'mq-pki-'));
  // Brokers that drop root privileges (Mosquitto) must read the server's files.
  chmodSync(folder, 0o755);
  const file = (name: string): string => join(folder, name);
  const ssl = (...args: string[]): Promise<string> => run(openssl, args, process.env);
  const passphrase = `pass-${Math.random().toString(36).slice(2)}`;
  const clientName = 'mq-test-client';
  try {
    for (const ca of ['ca', 'other-ca']) {
      await ssl(
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        `/CN=mq test ${ca}`,
        '-keyout',
        file(`${ca}.key`),
        '-out',
        file(`${ca}.pem`),
      );
    }
    writeFileSync(
      file('server.ext'),
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
    );
    writeFileSync(file('client.ext'), 'extendedKeyUsage=clientAuth\n');
    for (const [name, cn] of [
      ['server', 'localhost'],
      ['client', clientName],
    ] as const) {
      await ssl(
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        `/CN=${cn}`,
        '-keyout',
        file(`${name}.key`),
        '-out',
        file(`${name}.csr`),
      );
      await ssl(
        'x509',
        '-req',
        '-in',
        file(`${name}.csr`),
        '-CA',
        file('ca.pem'),
        '-CAkey',
        file('ca.key'),
        '-CAcreateserial',
        '-days',
        '2',
        '-extfile',
        file(`${name}.ext`),
        '-out',
        file(`${name}.pem`),
      );
    }
    await ssl(
      'pkey',
      '-in',
      file('client.key'),
      '-aes256',
      '-passout',
      `pass:${passphrase}`,
      '-out',
      file('client-encrypted.key'),
    );
  } catch (error) {
    rmSync(folder, { recursive: true, force: true });
    throw error;
  }
  for (const name of readdirSync(folder)) chmodSync(file(name), 0o644);
  const pem = (name: string): PemFile => ({ path: file(name), pem: readFileSync(file(name), 'utf8') });
  return {
    ca: pem('ca.pem'),
    serverCert: pem('server.pem'),
    serverKey: pem('server.key'),
    clientCert: pem('client.pem'),
    clientKey: pem('client-encrypted.key'),
    clientKeyPassphrase: passphrase,
    clientName,
    otherCa: pem('other-ca.pem'),
    dispose: () => rmSync(folder, { recursive: true, force: true }),
  };
}
