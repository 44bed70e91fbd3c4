import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const app = join(pkg, 'test', 'fixtures', 'smoke-app.mjs');

/** What the smoke app prints: it must be the same on every supported Nest major. */
function expectSmoke(output: string, major: string): void {
  const result = JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
  expect(String(result.nest).split('.')[0]).toBe(major);
  expect(result).toMatchObject({
    required: true,
    up: 'up',
    sum: 6,
    refused: { code: 'NO' },
    seen: [
      { pattern: 'events', data: { id: 1 }, tenant: 'acme' },
      { pattern: 'jobs', data: 'poison' },
      { pattern: 'jobs', data: 'poison' },
      { pattern: 'dead', data: 'poison', error: 'cannot do poison' },
    ],
  });
}

describe('the Nest majors @mq/nestjs supports (peer range ^11 || ^12)', () => {
  it('Nest 12 (the workspace): a hybrid app handles, retries and dead-letters events and answers send(), from ESM and require()', async () => {
    const { stdout } = await run(process.execPath, [app], { cwd: pkg, timeout: 60_000 });
    expectSmoke(stdout, '12');
  });

  it('Nest 11 (installed with npm in an app of its own): the same app, the same results', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mq-nestjs-11-'));
    try {
      writeFileSync(
        join(dir, 'package.json'),
        JSON.stringify({ name: 'nest11-app', private: true, type: 'module' }),
      );
      await run(
        'npm',
        [
          'install',
          '--no-audit',
          '--no-fund',
          '--prefer-offline',
          '--loglevel=error',
          '@nestjs/common@^11',
          '@nestjs/core@^11',
          '@nestjs/microservices@^11',
          '@nestjs/platform-express@^11',
          'reflect-metadata@0.2.2',
          'rxjs@7.8.2',
        ],
        { cwd: dir, timeout: 150_000 },
      );
      // @mq/nestjs as npm would lay it out (its package.json and dist), core and memory from the workspace.
      const scope = join(dir, 'node_modules', '@mq');
      mkdirSync(join(scope, 'nestjs'), { recursive: true });
      cpSync(join(pkg, 'package.json'), join(scope, 'nestjs', 'package.json'));
      cpSync(join(pkg, 'dist'), join(scope, 'nestjs', 'dist'), { recursive: true });
      for (const name of ['core', 'memory']) {
        symlinkSync(realpathSync(join(pkg, 'node_modules', '@mq', name)), join(scope, name));
      }
      cpSync(app, join(dir, 'smoke-app.mjs'));
      const { stdout } = await run(process.execPath, ['smoke-app.mjs'], { cwd: dir, timeout: 60_000 });
      expectSmoke(stdout, '11');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
