import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const MARKER = /^<!-- snippet: (\S+) -->$/;

/** The text a marker names: a whole file, or the lines between `// #region <name>` and `// #endregion <name>`. */
function snippet(source: string): string {
  const [path, region] = source.split('#');
  const text = readFileSync(join(root, path ?? ''), 'utf8');
  if (region === undefined) return text.replace(/\n$/, '');
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.trim() === `// #region ${region}`);
  const end = lines.findIndex((line) => line.trim() === `// #endregion ${region}`);
  if (start < 0 || end < start) throw new Error(`${source}: region '${region}' not found`);
  return lines.slice(start + 1, end).join('\n');
}

/** Each TypeScript block of SPI.md, with the file its marker names. */
function blocks(): Array<{ line: number; code: string; source: string | undefined }> {
  const lines = readFileSync(join(root, 'packages/core/SPI.md'), 'utf8').split('\n');
  const found: Array<{ line: number; code: string; source: string | undefined }> = [];
  for (let i = 0; i < lines.length; i += 1) {
    if (lines[i] !== '```ts') continue;
    const end = lines.indexOf('```', i + 1);
    found.push({
      line: i + 1,
      code: lines.slice(i + 1, end).join('\n'),
      source: MARKER.exec(lines[i - 1] ?? '')?.[1],
    });
    i = end;
  }
  return found;
}

describe('SPI.md', () => {
  it('shows only code that is compiled and tested: each TypeScript block is exactly the backend source it names', () => {
    const all = blocks();
    expect(all.length).toBeGreaterThanOrEqual(4);
    for (const block of all) {
      expect(block.source, `SPI.md:${block.line} names no source`).toBeDefined();
      expect(block.code, `SPI.md:${block.line}`).toBe(snippet(block.source as string));
    }
  });
});
