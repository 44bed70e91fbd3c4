// npx tsx src/profile-summary.ts PROFILE.cpuprofile [--top N]
// Where a CPU profile's main thread spent its time: self time per library (mq's packages, each client, Node's
// stream and socket code, the bench harness, GC) and the functions with the most self time.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a function's code lives, by its URL; the first match wins. */
const PLACES: Array<[string, RegExp]> = [
  ['mq core', /packages\/core\/dist/],
  ['mq amqp', /packages\/amqp\/dist/],
  ['mq mqtt', /packages\/mqtt\/dist/],
  ['amqplib', /node_modules\/amqplib\//],
  ['amqp-client.js', /@cloudamqp\/amqp-client/],
  ['amqp-connection-manager', /amqp-connection-manager/],
  ['mqtt.js', /node_modules\/mqtt\//],
  ['mqtt-packet', /mqtt-packet/],
  ['debug', /node_modules\/debug\//],
  ['other dependencies', /node_modules/],
  ['bench harness', /bench\/src/],
  ['node module loading (startup)', /node:internal\/(modules|bootstrap)/],
  ['node streams', /node:internal\/streams/],
  ['node net', /node:net|node:internal\/(net|stream_base_commons)/],
  ['node timers, microtasks', /node:internal\/(timers|process\/task_queues)|node:timers/],
  ['node buffer', /node:buffer|node:internal\/buffer/],
  ['node events', /node:events|node:internal\/events/],
  ['node other', /^node:/],
];

function placeOf(node: ProfileNode): string {
  const { functionName, url } = node.callFrame;
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return 'V8 and native (program)';
  // The socket write syscalls (one per write, or per gathered writev) and the harness's RSS sampling.
  if (url === '' && /^(writeBuffer|writev|writeUtf8String|writeLatin1String)$/.test(functionName)) {
    return 'socket writes (native)';
  }
  if (url === '' && functionName === 'rss') return 'bench harness';
  if (url === '') return 'other native';
  return PLACES.find(([, pattern]) => pattern.test(url))?.[0] ?? 'other';
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' } },
});

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const byPlace = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  for (const [id, micros] of selfMicros) {
    const node = byId.get(id);
    if (!node) continue;
    const place = placeOf(node);
    byPlace.set(place, (byPlace.get(place) ?? 0) + micros);
    if (place === 'idle') continue;
    busy += micros;
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(packages|bench)\//, '$1/')}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
  }
  const ms = (micros: number): string => (micros / 1000).toFixed(0).padStart(6);
  const pct = (micros: number): string => `${((micros / busy) * 100).toFixed(1).padStart(5)} %`;
  console.log(`${file}: busy ${ms(busy)} ms (idle ${ms(byPlace.get('idle') ?? 0)} ms)`);
  for (const [place, micros] of [...byPlace].sort((a, b) => b[1] - a[1])) {
    if (place !== 'idle' && micros >= busy / 200) console.log(`  ${ms(micros)} ms ${pct(micros)}  ${place}`);
  }
  console.log('  top functions (self time):');
  for (const [name, micros] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
    console.log(`  ${ms(micros)} ms ${pct(micros)}  ${name}`);
  }
}
