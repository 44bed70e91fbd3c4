import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guardBroker, type Release, spawnBroker } from './guard.js';
import { freePort, waitForPort } from './ports.js';
import { findExecutable, run } from './tools.js';

/** Why a Mosquitto of our own cannot be started here, or undefined when it can. */
export function mosquittoMissing(): string | undefined {
  if (process.platform === 'win32') return 'throwaway Mosquitto brokers need a Unix machine';
  if (!findExecutable('mosquitto')) return 'mosquitto is not installed';
  return undefined;
}

/** A Mosquitto of the tests' own, on a free loopback port, persisting to its own folder. */
export interface MosquittoBroker {
  /** `mqtt://127.0.0.1:<port>`. */
  readonly url: string;
  /** The MQTT port on 127.0.0.1. */
  readonly port: number;
  /** `mqtts://127.0.0.1:<port>` of the TLS listener, when `tls` was given. */
  readonly tlsUrl: string | undefined;
  /** Stops it gracefully (SIGTERM: it saves its persistence file); `start()` brings it back. */
  stop(): Promise<void>;
  /** Kills it at once (SIGKILL), as a crash would; `start()` brings it back. */
  kill(): Promise<void>;
  /** Starts it again after `stop()` or `kill()`; resolves once it takes connections. */
  start(): Promise<void>;
  /** Stops it and deletes everything it wrote; idempotent. */
  dispose(): Promise<void>;
}

/** Options of {@link startMosquitto}. */
export interface MosquittoOptions {
  /**
   * Keep sessions and QoS 1 messages across a restart (`persistence true`, saved on `stop()`).
   * @default true
   */
  persistence?: boolean;
  /** Extra lines for its `mosquitto.conf`. */
  config?: readonly string[];
  /**
   * Users and their passwords: when given, anonymous clients are refused and these are checked (a
   * `password_file` made with `mosquitto_passwd`).
   * @default none: anonymous clients are let in
   */
  users?: Readonly<Record<string, string>>;
  /** A second listener, with TLS, on a port of its own (`tlsUrl`); the files are PEM paths. */
  tls?: BrokerTls;
}

/** TLS settings of a throwaway broker's TLS listener: PEM file paths. */
export interface BrokerTls {
  /** The CA that client certificates must be signed by. */
  ca: string;
  /** The server certificate. */
  cert: string;
  /** Its unencrypted private key. */
  key: string;
  /**
   * Refuse clients without a certificate signed by `ca` (mutual TLS).
   * @default false
   */
  requireCertificate?: boolean;
}

/**
 * Starts a Mosquitto of the tests' own (anonymous, loopback only), so tests can restart or kill it freely. A
 * watchdog kills it and deletes its folder if the test process dies without calling `dispose()`. Throws when
 * `mosquittoMissing()` says why it cannot.
 */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<MosquittoBroker> {
  const missing = mosquittoMissing();
  if (missing) throw new Error(`[mq/testkit] cannot start Mosquitto: ${missing}`);
  const binary = findExecutable('mosquitto') as string;
  const folder = mkdtempSync(join(tmpdir(), 'mq-mosquitto-'));
  // Mosquitto drops root privileges to its own user: that user must be able to write here.
  chmodSync(folder, 0o777);
  const port = await freePort();
  const config = join(folder, 'mosquitto.conf');
  const auth = options.users ? await passwordFile(folder, options.users) : undefined;
  const tlsPort = options.tls ? await freePort() : undefined;
  const tlsLines =
    options.tls && tlsPort !== undefined
      ? [
          `listener ${tlsPort} 127.0.0.1`,
          `cafile ${options.tls.ca}`,
          `certfile ${options.tls.cert}`,
          `keyfile ${options.tls.key}`,
          `require_certificate ${options.tls.requireCertificate === true ? 'true' : 'false'}`,
        ]
      : [];
  writeFileSync(
    config,
    [
      `listener ${port} 127.0.0.1`,
      ...(auth ? ['allow_anonymous false', `password_file ${auth}`] : ['allow_anonymous true']),
      `persistence ${options.persistence === false ? 'false' : 'true'}`,
      `persistence_location ${folder}/`,
      'log_dest stdout',
      ...(options.config ?? []),
      // Listener-specific lines last: each applies to the listener above it.
      ...tlsLines,
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  let release: Release = () => {};
  const start = async (): Promise<void> => {
    if (child) return;
    const started = await spawnBroker(binary, ['-c', config], process.env, join(folder, 'mosquitto.log'));
    child = started;
    release();
    release = guardBroker(started.pid, folder);
    try {
      await waitForPort(port, true, 10_000, 'Mosquitto');
      if (tlsPort !== undefined) await waitForPort(tlsPort, true, 10_000, 'Mosquitto (TLS)');
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- its log ---\n${readLog(folder)}`);
    }
  };
  const signal = async (name: NodeJS.Signals): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running) return;
    running.kill(name);
    // Polled, not awaited as an 'exit' event: the child is unref'd, and an event alone keeps no process alive.
    const exited = (): boolean => running.exitCode !== null || running.signalCode !== null;
    const deadline = Date.now() + 10_000;
    while (!exited() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    // One that ignores SIGTERM (stuck saving, say) is killed: a broker must never outlive dispose().
    if (!exited()) running.kill('SIGKILL');
    await waitForPort(port, false, 10_000, 'Mosquitto');
  };
  let disposed = false;
  try {
    await start();
  } catch (error) {
    try {
      await signal('SIGKILL');
    } finally {
      release();
      rmSync(folder, { recursive: true, force: true });
    }
    throw error;
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    tlsUrl: tlsPort === undefined ? undefined : `mqtts://127.0.0.1:${tlsPort}`,
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
    start,
    async dispose() {
      if (disposed) return;
      disposed = true;
      try {
        await signal('SIGTERM');
      } finally {
        release();
        rmSync(folder, { recursive: true, force: true });
      }
    },
  };
}

function readLog(folder: string): string {
  try {
    return readFileSync(join(folder, 'mosquitto.log'), 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(none)';
  }
}

/** Writes a Mosquitto password file for `users` in `folder` (with `mosquitto_passwd -b`); returns its path. */
async function passwordFile(folder: string, users: Readonly<Record<string, string>>): Promise<string> {
  const tool = findExecutable('mosquitto_passwd');
  if (!tool) throw new Error('[mq/testkit] mosquitto_passwd is not installed: cannot give Mosquitto users');
  const file = join(folder, 'passwords');
  writeFileSync(file, '');
  for (const [user, password] of Object.entries(users))
    await run(tool, ['-b', file, user, password], process.env);
  // Mosquitto reads it after dropping root privileges.
  chmodSync(file, 0o644);
  return file;
}
