// `tsc ... | node tsc-errors.cjs`: tsc runs with skipLibCheck false so the published .d.ts files of @mq/* are
// checked too. Errors in the app or in node_modules/@mq/* fail; errors only inside third-party .d.ts files (which
// the usual skipLibCheck: true hides) are reported as a note and do not fail.
'use strict';

const lines = require('node:fs').readFileSync(0, 'utf8').split('\n');
const errors = lines.filter((line) => /error TS\d+/.test(line));
const ours = errors.filter(
  (line) => !line.startsWith('node_modules/') || line.startsWith('node_modules/@mq/'),
);
const thirdParty = [
  ...new Set(
    errors
      .filter((line) => !ours.includes(line))
      .map((line) => line.match(/^node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1] ?? line),
  ),
];
for (const line of ours) console.log(line);
if (thirdParty.length > 0) {
  console.log(
    `note: with skipLibCheck false, ${errors.length - ours.length} type error(s) in third-party .d.ts files: ${thirdParty.join(', ')}`,
  );
}
process.exitCode = ours.length > 0 || (errors.length === 0 && lines.some((l) => l.trim() !== '')) ? 1 : 0;
