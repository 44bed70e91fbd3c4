// `node workspace-deps.cjs package.json @mq/core=1.2.3 ...` rewrites workspace: ranges to released versions the
// way pnpm publish does (workspace:* -> 1.2.3, workspace:^ -> ^1.2.3), so a copied example installs from a registry.
'use strict';

const fs = require('node:fs');

const [file, ...pairs] = process.argv.slice(2);
const versions = Object.fromEntries(
  pairs.map((pair) => [pair.slice(0, pair.lastIndexOf('=')), pair.slice(pair.lastIndexOf('=') + 1)]),
);
const manifest = JSON.parse(fs.readFileSync(file, 'utf8'));
const missing = [];
for (const field of ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies']) {
  for (const [dep, spec] of Object.entries(manifest[field] ?? {})) {
    if (!spec.startsWith('workspace:')) continue;
    const version = versions[dep];
    if (!version) {
      missing.push(dep);
      continue;
    }
    const range = spec.slice('workspace:'.length);
    manifest[field][dep] =
      range === '*' ? version : range === '^' || range === '~' ? `${range}${version}` : range;
    console.log(`${field}.${dep}: ${spec} -> ${manifest[field][dep]}`);
  }
}
if (missing.length > 0) {
  console.error(`not published (private?): ${[...new Set(missing)].join(', ')}`);
  process.exit(1);
}
fs.writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
