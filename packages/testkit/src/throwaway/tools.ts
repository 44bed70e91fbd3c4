import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

/** Runs a command and returns its standard output; rejects with its standard error on failure or timeout. */
export async function run(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMillis = 60_000,
): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(command, [...args], { env, timeout: timeoutMillis });
    return stdout;
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    throw new Error(`[mq/testkit] ${command} ${args.join(' ')} failed: ${(stderr ?? '').trim() || message}`);
  }
}

/** The first executable named `name` in `extraDirs` or on the PATH, or undefined. */
export function findExecutable(name: string, extraDirs: readonly string[] = []): string | undefined {
  const dirs = [...extraDirs, ...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
