import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

/**
 * The watchdog, run as its own detached Node process: every 500 ms it checks that the test process is alive;
 * once it is gone (a crash, a SIGKILL, a timeout that killed the worker) it kills the broker's process group
 * and deletes its folder. Argument order: test pid, broker pid, folder.
 */
const WATCHDOG = `
const [parent, broker, folder] = process.argv.slice(1);
const alive = (pid) => { try { process.kill(Number(pid), 0); return true; } catch { return false; } };
setInterval(() => {
  if (alive(parent)) return;
  for (const target of [-Number(broker), Number(broker)]) { try { process.kill(target, 'SIGKILL'); } catch {} }
  try { require('node:fs').rmSync(folder, { recursive: true, force: true }); } catch {}
  process.exit(0);
}, 500);
`;

/**
 * Starts a broker process in its own process group (so that it can be killed with its children), its output
 * appended to `logFile`, and resolves once it is running; rejects if it cannot be started at all.
 */
export function spawnBroker(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  logFile: string,
): Promise<ChildProcess & { pid: number }> {
  const log = openSync(logFile, 'a');
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { env, detached: true, stdio: ['ignore', log, log] });
    closeSync(log);
    child.once('error', (error) =>
      reject(new Error(`[mq/testkit] cannot start ${command}: ${error.message}`)),
    );
    child.once('spawn', () => {
      child.unref();
      if (child.pid === undefined) reject(new Error(`[mq/testkit] ${command} started without a pid`));
      else resolve(child as ChildProcess & { pid: number });
    });
  });
}

/** Stops the watchdog; the caller cleans up itself. */
export type Release = () => void;

/**
 * Makes sure a broker the tests started never outlives the test process: a detached watchdog kills the
 * process (group) `brokerPid` and deletes `folder` when this process dies without cleaning up.
 */
export function guardBroker(brokerPid: number, folder: string): Release {
  const watchdog = spawn(process.execPath, ['-e', WATCHDOG, String(process.pid), String(brokerPid), folder], {
    detached: true,
    stdio: 'ignore',
  });
  watchdog.unref();
  return () => {
    try {
      watchdog.kill('SIGKILL');
    } catch {
      // already gone
    }
  };
}
