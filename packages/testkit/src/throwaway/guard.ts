import { spawn } from 'node:child_process';

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
