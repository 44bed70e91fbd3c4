import { describe, expect, it } from 'vitest';
import { REPOSITORY, read, readmes } from './markdown.js';

/** A TypeScript code block of a README, with the snippet marker just above it, if any. */
interface Block {
  readme: string;
  line: number;
  code: string;
  source: string | undefined;
}

const MARKER = /^<!-- snippet: (\S+) -->$/;

function blocks(readme: string): Block[] {
  const lines = read(readme).split('\n');
  const found: Block[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    if (lines[i] !== '```ts' && lines[i] !== '```typescript') continue;
    const end = lines.indexOf('```', i + 1);
    const marker = MARKER.exec(lines[i - 1] ?? '');
    found.push({ readme, line: i + 1, code: lines.slice(i + 1, end).join('\n'), source: marker?.[1] });
    i = end;
  }
  return found;
}

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

describe('README and docs/ snippets', () => {
  const all = readmes().flatMap(blocks);

  it('every TypeScript block of every README and guide names the file it comes from', () => {
    const unmarked = all.filter((b) => b.source === undefined).map((b) => `${b.readme}:${b.line}`);
    expect(unmarked).toEqual([]);
    expect(all.length).toBeGreaterThanOrEqual(10);
  });

  it.each(all.filter((b) => b.source !== undefined).map((b) => [`${b.readme}:${b.line}`, b] as const))(
    '%s is exactly the file it names, which the tests type-check and run',
    (_where, block) => {
      expect(block.code).toBe(snippet(block.source as string));
    },
  );

  it('package READMEs link with absolute URLs (relative links break on the npm page), to the repository named in package.json', () => {
    const homepage = (JSON.parse(read('package.json')) as { homepage: string }).homepage;
    expect(homepage.startsWith(REPOSITORY)).toBe(true);
    for (const readme of readmes().filter((r) => r.startsWith('packages/'))) {
      const text = read(readme);
      const links = [...text.matchAll(/\]\(([^)]+)\)/g)].map((m) => m[1] ?? '');
      expect(
        links.filter((link) => !/^(https?:|#)/.test(link)),
        readme,
      ).toEqual([]);
      expect(text, readme).toContain(`](${homepage})`);
    }
  });
});
