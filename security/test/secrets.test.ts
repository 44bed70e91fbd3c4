import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  createTestCertificates,
  type MosquittoBroker,
  mosquittoMissing,
  opensslMissing,
  type RabbitNode,
  rabbitmqMissing,
  startMosquitto,
  startRabbitNode,
  type TestCertificates,
} from '@mq/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecretsPlan, SecretsResult } from './secrets-child.js';

// The secrets test: throwaway RabbitMQ and Mosquitto brokers with mutual-TLS listeners and a user whose password
// only this test knows; a child process with every debug switch on connects to both with a wrong password, a wrong
// key passphrase and the right ones, over TLS and plain TCP, and walks everything a user can reach. No password,
// passphrase or key byte may appear in what it reaches or in anything it prints.

const CHILD = fileURLToPath(new URL('./secrets-child.ts', import.meta.url));
const missing = opensslMissing() ?? mosquittoMissing() ?? rabbitmqMissing();

const USER = 'mq-secret-user';
const PASSWORD = `Pw-${Math.random().toString(36).slice(2)}-secret`;

/** A secret and the encodings it could be printed in: hex (as inspect prints a Buffer, and plain), base64. */
function encodings(name: string, secret: string): Record<string, string> {
  const bytes = Buffer.from(secret);
  return {
    [name]: secret,
    [`${name} as hex`]: bytes.toString('hex'),
    [`${name} as Buffer bytes`]: bytes
      .subarray(0, 16)
      .toString('hex')
      .replace(/(..)(?!$)/g, '$1 '),
    [`${name} as base64`]: bytes.toString('base64').replace(/=+$/, ''),
    [`${name} as percent-encoding`]: encodeURIComponent(secret),
  };
}

/** What the child ran and printed. */
interface ChildRun {
  readonly output: string;
  readonly code: number | null;
  readonly result: SecretsResult | undefined;
}

function runChild(plan: SecretsPlan): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: {
        ...process.env,
        // Every debug switch: the debug package's loggers (mqtt.js, mqtt-packet, ...) at full depth with hidden
        // properties, and Node's own (net, tls, stream, ...).
        DEBUG: '*',
        DEBUG_DEPTH: '12',
        DEBUG_SHOW_HIDDEN: 'true',
        DEBUG_COLORS: '0',
        NODE_DEBUG: '*',
        MQ_STRICT_STATUS: '1',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    // Through stdin, not the environment: Node's own debug log (NODE_DEBUG) prints the environment of the
    // processes a process spawns (tsx's compiler service, say), and the plan holds the secrets.
    child.stdin.end(JSON.stringify(plan));
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the secrets child did not end within 120 s'));
    }, 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const output = Buffer.concat(chunks).toString('utf8');
      const line = output.split('\n').find((one) => one.startsWith('MQ-SECRETS-RESULT '));
      const result = line
        ? (JSON.parse(line.slice('MQ-SECRETS-RESULT '.length)) as SecretsResult)
        : undefined;
      resolve({ output, code, result });
    });
  });
}

describe.skipIf(missing !== undefined)(
  `no secret is reachable or printed, with every debug switch on${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    let pki: TestCertificates | undefined;
    let rabbit: RabbitNode | undefined;
    let mosquitto: MosquittoBroker | undefined;
    let run: ChildRun;
    let secrets: Record<string, string>;

    beforeAll(async () => {
      pki = await createTestCertificates();
      const tls = {
        ca: pki.ca.path,
        cert: pki.serverCert.path,
        key: pki.serverKey.path,
        requireCertificate: true,
      };
      [rabbit, mosquitto] = await Promise.all([
        startRabbitNode({ tls }),
        startMosquitto({ tls, users: { [USER]: PASSWORD } }),
      ]);
      await rabbit.ctl('add_user', USER, PASSWORD);
      await rabbit.ctl('set_permissions', '-p', '/', USER, '.*', '.*', '.*');
      const withUser = (uri: string, password: string): string => {
        const url = new URL(uri);
        url.username = USER;
        url.password = password;
        return url.toString();
      };
      const keyLines = pki.clientKey.pem
        .split('\n')
        .filter((line) => line !== '' && !line.startsWith('-----'));
      secrets = {
        ...encodings('password', PASSWORD),
        ...encodings('passphrase', pki.clientKeyPassphrase),
        // Lines of the encrypted key's PEM body, first, middle and last.
        'key PEM (first line)': keyLines[0] as string,
        'key PEM (middle line)': keyLines[Math.floor(keyLines.length / 2)] as string,
        'key PEM (last line)': keyLines[keyLines.length - 1] as string,
      };
      const plan: SecretsPlan = {
        amqp: {
          tlsUri: withUser(rabbit.tlsUrl as string, PASSWORD),
          plainUri: withUser(rabbit.url, PASSWORD),
          wrongUri: withUser(rabbit.url, `${PASSWORD}-wrong`),
        },
        mqtt: {
          tlsUri: withUser(mosquitto.tlsUrl as string, PASSWORD),
          plainUri: withUser(mosquitto.url, PASSWORD),
          wrongUri: withUser(mosquitto.url, `${PASSWORD}-wrong`),
        },
        tls: {
          ca: pki.ca.pem,
          cert: pki.clientCert.pem,
          key: pki.clientKey.pem,
          passphrase: pki.clientKeyPassphrase,
        },
        secrets,
      };
      run = await runChild(plan);
    }, 180_000);

    afterAll(async () => {
      await Promise.allSettled([rabbit?.dispose(), mosquitto?.dispose()]);
      pki?.dispose();
    });

    /** `text` with every secret replaced, for a failure message. */
    const redacted = (text: string): string =>
      Object.values(secrets).reduce((shown, secret) => shown.split(secret).join('<secret>'), text);

    it('the scenario ran: wrong passwords are AUTH_FAILED, a wrong passphrase INVALID_OPTIONS, the right ones carry messages', () => {
      expect(run.result, redacted(run.output.slice(-3000))).toBeDefined();
      const { outcomes } = run.result as SecretsResult;
      expect(outcomes.failed).toBeUndefined();
      expect(outcomes).toMatchObject({
        'amqp wrong password': 'AUTH_FAILED',
        'amqp wrong passphrase': 'INVALID_OPTIONS',
        'amqp tls': 'received',
        'amqp plain': 'received',
        'mqtt wrong password': 'AUTH_FAILED',
        'mqtt wrong passphrase': 'INVALID_OPTIONS',
        'mqtt tls': 'received',
        'mqtt plain': 'received',
      });
      expect(Number(outcomes.spans)).toBeGreaterThan(0);
      expect(Number(outcomes['channel messages'])).toBeGreaterThan(0);
      expect(run.code).toBe(0);
    });

    it('the debug switches were on: mqtt.js, mqtt-packet and Node logged', () => {
      for (const namespace of ['mqttjs:client', 'mqtt-packet:', 'TLS ', 'NET ']) {
        expect(run.output, `no ${namespace} line`).toContain(namespace);
      }
    });

    it('no object a user can reach holds a secret: connections, queues, messages, events, channels, spans, metrics', () => {
      const result = run.result as SecretsResult;
      expect(result.walked).toBeGreaterThan(20);
      expect(result.found).toEqual({});
    });

    it('no line the process printed holds a secret, in clear, hex, base64 or percent-encoded', () => {
      const leaks = run.output.split('\n').flatMap((line, i) =>
        Object.entries(secrets)
          .filter(([, secret]) => line.includes(secret))
          .map(([name]) => `line ${i + 1}: ${name}`),
      );
      expect(leaks).toEqual([]);
    });
  },
);
