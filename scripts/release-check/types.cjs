// `node types.cjs <package> <exports.json> <typeRoots> <dir>` writes a small TypeScript app that uses the
// installed package from ESM (.mts, `import`) and, when the package offers a require condition, from CJS (.cts,
// `import = require`), plus a module nodenext tsconfig, for `tsc -p <dir>`.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const [name, exportsFile, typeRoots, dir] = process.argv.slice(2);
const { names, backends } = JSON.parse(fs.readFileSync(exportsFile, 'utf8'));
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', name, 'package.json'), 'utf8'));
const root = manifest.exports?.['.'];
const offersRequire = typeof root === 'object' && root !== null && 'require' in root;

const esm = [];
const cjs = [];
esm.push(`import { ${names.join(', ')} } from '${name}';`);
esm.push(`export const exported: readonly unknown[] = [${names.join(', ')}];`);
cjs.push(`import pkg = require('${name}');`);
cjs.push(`export const exported: readonly unknown[] = [${names.map((n) => `pkg.${n}`).join(', ')}];`);
if (backends.length > 0) {
  // What an app writes: a backend typed as core's Backend, a connection and a reliable sender.
  esm.unshift(`import { type Backend, type Connection, type Queue, waitForStatus } from '@mq/core';`);
  cjs.unshift(`import core = require('@mq/core');`);
  for (const backend of backends) {
    esm.push(
      `export async function send_${backend}(uri: string, payload: Uint8Array): Promise<void> {`,
      `  const backend: Backend = ${backend};`,
      '  const connection: Connection = backend.createConnection({ uri });',
      '  connection.connect();',
      `  await waitForStatus(connection, 'connected', { timeoutMillis: 5000 });`,
      `  const queue: Queue = backend.createQueue({ name: 'release-check', isRecv: false, reliable: true }, connection);`,
      '  queue.connect();',
      '  await queue.sendMsg(payload);',
      '  await connection.close();',
      '}',
    );
    cjs.push(`export const ${backend}_cjs: core.Backend = pkg.${backend};`);
  }
}
const files = ['esm.mts'];
fs.writeFileSync(path.join(dir, 'esm.mts'), `${esm.join('\n')}\n`);
if (offersRequire) {
  fs.writeFileSync(path.join(dir, 'cjs.cts'), `${cjs.join('\n')}\n`);
  files.push('cjs.cts');
}
const tsconfig = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2023', 'ESNext.Disposable'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    exactOptionalPropertyTypes: true,
    noEmit: true,
    // Check the published .d.ts files too, not only this app.
    skipLibCheck: false,
    types: ['node'],
    typeRoots: [typeRoots],
  },
  files,
};
fs.writeFileSync(path.join(dir, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`);
console.log(
  `types: ${files.join(' + ')} against ${name} (module nodenext${offersRequire ? '' : ', ESM-only package'})`,
);
