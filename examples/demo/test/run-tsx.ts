import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** tsx's loader from the demo's own install, by path, so that it loads for any folder (a copy outside too). */
const tsx = pathToFileURL(
  join(
    realpathSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', 'tsx')),
    'dist',
    'loader.mjs',
  ),
);

function withoutNodePath(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_PATH: _ignored, ...rest } = env;
  return rest;
}

/**
 * Runs a TypeScript file with tsx in its own Node process, as a user's `npx tsx <file>` would, and resolves with
 * its exit code and output (stdout and stderr). It is killed after `timeoutMillis`: a program that never ends (a
 * connection left open, a promise that never settles) shows up as a null exit code.
 */
export function runTsx(
  file: string,
  options: { cwd: string; env?: Record<string, string>; timeoutMillis: number },
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsx.href, file], {
      cwd: options.cwd,
      // Without the NODE_PATH that package-manager shims set, so packages resolve as in a user's app.
      env: { ...withoutNodePath(process.env), ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMillis);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
