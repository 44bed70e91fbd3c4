// CJS consumer: `node smoke.cjs <package>` requires the installed package (the "require" condition) and sends a
// message through each backend it exports.
'use strict';

const { isBackend, roundTrip } = require('./roundtrip.cjs');

async function main() {
  const name = process.argv[2];
  const mod = require(name);
  const names = Object.keys(mod).filter((key) => key !== 'default' && key !== '__esModule');
  const backends = names.filter((key) => isBackend(mod[key]));
  console.log(
    `CJS require ok: ${names.length} exports${backends.length > 0 ? `, backend ${backends.join(', ')}` : ''}`,
  );
  if (backends.length > 0) {
    const core = require('@mq/core');
    for (const key of backends) await roundTrip(mod[key], core, 'CJS');
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
