import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The built package, as Node resolves it for a user: by name, through `exports` (a package may import itself).
const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Runs `code` in a fresh Node process as ESM or CommonJS from the package's folder; returns what it printed. */
function runNode(type: 'module' | 'commonjs', code: string): unknown {
  const out = execFileSync(process.execPath, [`--input-type=${type}`, '-e', code], {
    cwd: packageDir,
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

/** Prints the names of `@mq/core` whose value `@mq/core/spi` does not hold as the very same object. */
const compare = (app: string, spi: string): string => `
  const notSame = Object.keys(${app}).filter((name) => ${spi}[name] !== ${app}[name]);
  console.log(JSON.stringify({ names: Object.keys(${app}).length, notSame,
    spiBase: typeof ${spi}.BaseQueue, appBase: typeof ${app}.BaseQueue }));`;

describe('the entries @mq/core, @mq/core/spi and @mq/core/contract', () => {
  it('share one copy of every value in CommonJS: require() of either entry gives the same MqError, the same channels', () => {
    const result = runNode(
      'commonjs',
      `const app = require('@mq/core'); const spi = require('@mq/core/spi'); require('@mq/core/contract');
      ${compare('app', 'spi')}`,
    );
    expect(result).toEqual({
      names: expect.any(Number),
      notSame: [],
      spiBase: 'function',
      appBase: 'undefined',
    });
  });

  it('share one copy of every value in ESM', () => {
    const result = runNode(
      'module',
      `const app = await import('@mq/core'); const spi = await import('@mq/core/spi');
      await import('@mq/core/contract');
      ${compare('app', 'spi')}`,
    );
    expect(result).toEqual({
      names: expect.any(Number),
      notSame: [],
      spiBase: 'function',
      appBase: 'undefined',
    });
  });

  it('define MqError once per module format, in a chunk the entries share (the contract included)', () => {
    const dist = join(packageDir, 'dist');
    const defining = (extension: string): string[] =>
      readdirSync(dist).filter(
        (file) =>
          file.endsWith(extension) &&
          readFileSync(join(dist, file), 'utf8').includes('Symbol.for("@mq/core.MqError")'),
      );
    expect(defining('.cjs')).toHaveLength(1);
    expect(defining('.js')).toHaveLength(1);
    expect(defining('.cjs')[0]).not.toMatch(/^(index|spi|contract)\./);
  });
});
