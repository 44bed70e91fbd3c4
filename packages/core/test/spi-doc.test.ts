import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The guide for backend authors, where the SPI is written down. */
const GUIDE = 'docs/backends.md';
const MARKER = /^<!-- snippet: (\S+) -->$/;

const read = (file: string): string => readFileSync(join(root, file), 'utf8');

/** The text a marker names: a whole file, or the lines between `// #region <name>` and `// #endregion <name>`. */
function snippet(source: string): string {
  const [path, region] = source.split('#');
  const text = read(path ?? '');
  if (region === undefined) return text.replace(/\n$/, '');
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.trim() === `// #region ${region}`);
  const end = lines.findIndex((line) => line.trim() === `// #endregion ${region}`);
  if (start < 0 || end < start) throw new Error(`${source}: region '${region}' not found`);
  return lines.slice(start + 1, end).join('\n');
}

/** Each TypeScript block of the guide, with the file its marker names. */
function blocks(): Array<{ line: number; code: string; source: string | undefined }> {
  const lines = read(GUIDE).split('\n');
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

/** The member names an interface of `file` declares (properties and methods at its first level of indentation). */
function members(file: string, name: string): string[] {
  const text = read(file);
  const start = text.search(new RegExp(`export interface ${name}\\b`));
  if (start < 0) throw new Error(`${file}: interface ${name} not found`);
  const body = text.slice(start, text.indexOf('\n}\n', start));
  return [...body.matchAll(/^ {2}(?:readonly )?(\w+)\??[:(]/gm)].map((match) => match[1] ?? '');
}

/** The first column of the guide's table whose header starts with `| trait |`, code spans unwrapped. */
function traitRows(): string[] {
  const lines = read(GUIDE).split('\n');
  const start = lines.findIndex((line) => line.startsWith('| trait |'));
  const rows: string[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const name = /^\| `(\w+)`/.exec(line)?.[1];
    if (name !== undefined) rows.push(name);
  }
  return rows;
}

describe('docs/backends.md, the SPI reference', () => {
  it('shows only code that is compiled and tested: each TypeScript block is exactly the backend source it names', () => {
    const all = blocks();
    expect(all.length).toBeGreaterThanOrEqual(4);
    for (const block of all) {
      expect(block.source, `${GUIDE}:${block.line} names no source`).toBeDefined();
      expect(block.code, `${GUIDE}:${block.line}`).toBe(snippet(block.source as string));
    }
  });

  it('has a row in its trait table for every capability and every queue-only trait, and no other', () => {
    const capabilities = members('packages/core/src/api/backends.ts', 'Capabilities');
    const traits = members('packages/core/src/spi/traits.ts', 'Traits');
    expect(capabilities).toContain('broadcastRedelivery');
    expect(traits).toContain('requeuesBehind');
    expect([...traitRows()].sort()).toEqual([...capabilities, ...traits].sort());
  });

  it('has a row for every member of the driver and core interfaces', () => {
    const guide = read(GUIDE);
    const interfaces = [
      ['packages/core/src/spi/connection/link-driver.ts', 'LinkDriver'],
      ['packages/core/src/spi/connection/link-driver.ts', 'LinkCore'],
      ['packages/core/src/spi/queue/queue-driver.ts', 'QueueDriver'],
      ['packages/core/src/spi/queue/queue-driver.ts', 'QueueCore'],
    ] as const;
    const missing: string[] = [];
    for (const [file, name] of interfaces) {
      const names = members(file, name);
      expect(names.length, `${name} members`).toBeGreaterThan(1);
      for (const member of names) {
        if (!new RegExp(`^\\| [^|]*\`${member}[\`(?,]`, 'm').test(guide)) missing.push(`${name}.${member}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
