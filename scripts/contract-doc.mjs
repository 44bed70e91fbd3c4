// `node scripts/contract-doc.mjs` writes packages/core/CONTRACT.md, the list of the conformance contract's
// cases, from `contractCases` (build @mq/core first). packages/core/test/contract-doc.test.ts fails when the
// file is not what this renders, so the list can never drift from the cases.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Markdown for `cases` (objects with id, group, title, requires, timeoutMillis). */
export function renderContract(cases) {
  const groups = new Map();
  for (const c of cases) groups.set(c.group, [...(groups.get(c.group) ?? []), c]);
  const lines = [
    '# The conformance contract',
    '',
    'Generated from `contractCases` in `@mq/core/contract` by `node scripts/contract-doc.mjs`; do not edit by hand.',
    `${cases.length} cases in ${groups.size} groups. A case whose needs (capabilities of the backend, fault hooks of`,
    'the target) are not met shows as skipped, with the need in its title.',
    '',
  ];
  for (const [group, list] of groups) {
    lines.push(`## ${group} (${list.length})`, '', '| id | behaviour | needs |', '|---|---|---|');
    for (const c of list) {
      const needs = c.requires.length > 0 ? c.requires.map((r) => `\`${r}\``).join(', ') : '';
      lines.push(`| \`${c.id}\` | ${c.title.replace(/\|/g, '\\|')} | ${needs} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** Where the generated list lives. */
export const CONTRACT_FILE = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'packages',
  'core',
  'CONTRACT.md',
);

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { contractCases } = await import('../packages/core/dist/contract.js');
  writeFileSync(CONTRACT_FILE, renderContract(contractCases));
  console.log(`wrote ${CONTRACT_FILE} (${contractCases.length} cases)`);
}
