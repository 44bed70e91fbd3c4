import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM texts for TLS option tests: a self-signed certificate, its key (plain and encrypted), another key. */
export interface TlsMaterial {
  /** A self-signed certificate (also usable as a CA). */
  cert: string;
  /** Its private key, unencrypted. */
  key: string;
  /** The same key, encrypted with {@link TlsMaterial.passphrase}. */
  encryptedKey: string;
  /** The passphrase of {@link TlsMaterial.encryptedKey}. */
  passphrase: string;
  /** A key of another pair: it does not match {@link TlsMaterial.cert}. */
  otherKey: string;
}

/** Why the material cannot be made here (no openssl), or undefined. */
export function tlsMaterialMissing(): string | undefined {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'openssl is not installed';
  }
}

/** Makes {@link TlsMaterial} with openssl in a temporary folder, deleted before it returns. */
export function makeTlsMaterial(): TlsMaterial {
  const folder = mkdtempSync(join(tmpdir(), 'mq-core-tls-'));
  const file = (name: string): string => join(folder, name);
  const ssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore' });
  };
  const passphrase = `pp-${Math.random().toString(36).slice(2)}`;
  try {
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=mq core test',
      '-keyout',
      file('key.pem'),
      '-out',
      file('cert.pem'),
    );
    ssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', file('other.pem'));
    ssl('pkey', '-in', file('key.pem'), '-aes256', '-passout', `pass:${passphrase}`, '-out', file('enc.pem'));
    const read = (name: string): string => readFileSync(file(name), 'utf8');
    return {
      cert: read('cert.pem'),
      key: read('key.pem'),
      encryptedKey: read('enc.pem'),
      passphrase,
      otherKey: read('other.pem'),
    };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
