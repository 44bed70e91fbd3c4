#!/usr/bin/env node
// Sets the workspace up on a machine that has only Node.js and npm: installs the pinned pnpm's dependencies
// (through npx when pnpm is not installed) and builds every package. Fast when nothing changed.
// `node scripts/setup.mjs demo` then runs the demo.
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PNPM = '10.34.9';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`mq needs Node.js 20.19 or newer to build and test (this is ${process.version}).`);
  process.exit(1);
}

function pnpmCommand() {
  try {
    if (execFileSync('pnpm', ['--version'], { encoding: 'utf8' }).trim() === PNPM) return ['pnpm', []];
  } catch {
    // not installed: fall back to npx
  }
  return ['npx', ['--yes', `pnpm@${PNPM}`]];
}

function run(command, args, extraEnv = {}) {
  const result = spawnSync(command, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...extraEnv },
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const [pnpm, prefix] = pnpmCommand();
run(pnpm, [...prefix, 'install', '--frozen-lockfile', '--reporter=append-only']);
run(pnpm, [...prefix, 'exec', 'turbo', 'run', 'build', '--output-logs=errors-only'], {
  TURBO_TELEMETRY_DISABLED: '1',
});

if (process.argv[2] === 'demo') {
  run(pnpm, [...prefix, '--filter', '@mq/example-demo', '--silent', 'start']);
}
