// ESM consumer: `node smoke.mjs <package> [exports.json]` imports the installed package (the "import"
// condition), records its runtime exports for the type check, and sends a message through each backend it exports.
import { writeFileSync } from 'node:fs';
import { isBackend, roundTrip } from './roundtrip.cjs';

const [name, out] = process.argv.slice(2);
const mod = await import(name);
const names = Object.keys(mod)
  .filter((key) => key !== 'default')
  .sort();
const backends = names.filter((key) => isBackend(mod[key]));
if (out) writeFileSync(out, JSON.stringify({ names, backends }));
console.log(
  `ESM import ok: ${names.length} exports${backends.length > 0 ? `, backend ${backends.join(', ')}` : ''}`,
);
if (backends.length > 0) {
  const core = await import('@mq/core');
  for (const key of backends) await roundTrip(mod[key], core, 'ESM');
}
