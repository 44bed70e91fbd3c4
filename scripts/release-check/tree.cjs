// `npm ls --all --json | node tree.cjs <package>`: checks that installing one package alone pulled only what it
// needs. @mq/core pulls nothing; a backend never pulls another backend or its client library.
'use strict';

const CLIENT_LIBRARIES = { '@mq/amqp': ['amqplib'], '@mq/mqtt': ['mqtt'] };

const name = process.argv[2];
const tree = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
const found = new Map();
(function walk(node) {
  for (const [dep, child] of Object.entries(node.dependencies ?? {})) {
    // An optional peer dependency nobody installed is listed as an empty entry (no version): it is not in the tree.
    if (child.version === undefined) continue;
    if (!found.has(dep)) found.set(dep, child.version);
    walk(child);
  }
})(tree);

const problems = [...(tree.problems ?? [])];
const forbidden = new Set();
for (const [pkg, libraries] of Object.entries(CLIENT_LIBRARIES)) {
  if (pkg !== name) for (const library of libraries) forbidden.add(library);
}
for (const dep of found.keys()) {
  if (dep.startsWith('@mq/') && dep !== name && dep !== '@mq/core') forbidden.add(dep);
}
for (const dep of forbidden)
  if (found.has(dep)) problems.push(`${dep} is in the tree but ${name} does not need it`);
if (name === '@mq/core' && found.size !== 1) {
  problems.push(`@mq/core must pull nothing, but the tree has ${[...found.keys()].join(', ')}`);
}
if (!found.has(name)) problems.push(`${name} is not installed`);

const direct = Object.entries(tree.dependencies?.[name]?.dependencies ?? {})
  .filter(([, c]) => c.version !== undefined)
  .map(([dep, c]) => `${dep}@${c.version}`);
const absent = [...forbidden].filter((dep) => !found.has(dep) && !dep.startsWith('@mq/'));
console.log(
  `tree: ${name}@${found.get(name)} -> ${direct.join(', ') || 'nothing'}; ${found.size} package(s) in all` +
    (absent.length > 0 ? `; ${absent.join(', ')} absent` : ''),
);
for (const problem of problems) console.log(`PROBLEM: ${problem}`);
process.exitCode = problems.length > 0 ? 1 : 0;
