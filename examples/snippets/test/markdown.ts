import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root folder. */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The repository's address, as package READMEs link to it (they are read on npm, where relative links break). */
export const REPOSITORY = 'https://github.com/mq-js/mq';

/** Every page a user reads, root-relative: the root README, each package's and example's, and the guides in docs/. */
export function readmes(): string[] {
  const found = ['README.md', 'bench/README.md'];
  for (const dir of ['packages', 'examples']) {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      if (entry.isDirectory() && existsSync(join(root, dir, entry.name, 'README.md'))) {
        found.push(`${dir}/${entry.name}/README.md`);
      }
    }
  }
  for (const entry of readdirSync(join(root, 'docs'), { withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.md')) found.push(`docs/${entry.name}`);
  }
  return found;
}

/** The other Markdown files users follow links into; their links are checked too. */
export const REFERENCE_PAGES = [
  'bench/HISTORY.md',
  'bench/RESULTS.md',
  'packages/core/CONTRACT.md',
  'SECURITY.md',
];

/** A file's text, root-relative. */
export function read(file: string): string {
  return readFileSync(join(root, file), 'utf8');
}

/** `text` without its fenced code blocks (each line kept, emptied, so line numbers still hold). */
export function withoutCodeBlocks(text: string): string {
  let fenced = false;
  return text
    .split('\n')
    .map((line) => {
      if (/^\s*```/.test(line)) {
        fenced = !fenced;
        return '';
      }
      return fenced ? '' : line;
    })
    .join('\n');
}

/** The anchor GitHub gives a heading (github-slugger's rule): lower case, punctuation dropped, spaces as dashes. */
export function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor of a Markdown file: one per heading, a repeated one numbered as GitHub numbers it. */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const found = new Set<string>();
  for (const line of withoutCodeBlocks(text).split('\n')) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = slug(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    found.add(count === 0 ? base : `${base}-${count}`);
  }
  return found;
}

/** The targets of a Markdown file's inline links, with their line numbers (code blocks and code spans left out). */
export function links(text: string): { line: number; target: string }[] {
  const found: { line: number; target: string }[] = [];
  withoutCodeBlocks(text)
    .split('\n')
    .forEach((line, index) => {
      const prose = line.replace(/`[^`]*`/g, 'code');
      for (const match of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
        found.push({ line: index + 1, target: match[1] ?? '' });
      }
    });
  return found;
}
