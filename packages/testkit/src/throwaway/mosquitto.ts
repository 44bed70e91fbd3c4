import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guardBroker, type Release } from './guard.js';
import { freePort, waitForPort } from './ports.js';
import { findExecutable } from './tools.js';

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
}

/**
 * Starts a Mosquitto of the tests' own (anonymous, loopback only), so tests can restart or kill it freely. A
 * watchdog kills it and deletes its folder if the test process dies without calling `dispose()`. Throws when
 * `mosquittoMissing()` says why it cannot.
 */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<MosquittoBroker> {
  const missing = mosquittoMissing();
  if (missing) throw new Error(`cannot start Mosquitto: ${missing}`);
  const binary = findExecutable('mosquitto') as string;
  const folder = mkdtempSync(join(tmpdir(), 'mq-mosquitto-'));
  // Mosquitto drops root privileges to its own user: that user must be able to write here.
  chmodSync(folder, 0o777);
  const port = await freePort();
  const config = join(folder, 'mosquitto.conf');
  writeFileSync(
    config,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      `persistence ${options.persistence === false ? 'false' : 'true'}`,
      `persistence_location ${folder}/`,
      'log_dest stdout',
      ...(options.config ?? []),
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  let release: Release = () => {};
  const start = async (): Promise<void> => {
    if (child) return;
    const log = openSync(join(folder, 'mosquitto.log'), 'a');
    const started = spawn(binary, ['-c', config], { detached: true, stdio: ['ignore', log, log] });
    child = started;
    started.unref();
    release();
    release = guardBroker(started.pid as number, folder);
    try {
      await waitForPort(port, true, 10_000, 'Mosquitto');
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
    const deadline = Date.now() + 10_000;
    while (running.exitCode === null && running.signalCode === null && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await waitForPort(port, false, 10_000, 'Mosquitto');
  };
  let disposed = false;
  try {
    await start();
  } catch (error) {
    await signal('SIGKILL');
    release();
    rmSync(folder, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
    start,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await signal('SIGTERM').catch(() => {});
      release();
      rmSync(folder, { recursive: true, force: true });
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
