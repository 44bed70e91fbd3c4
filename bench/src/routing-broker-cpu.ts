// `pnpm --filter @mq/bench routing-cpu`: where topic routing's cost goes on a broker on this machine. mq sends
// reliable 256 B messages, 100 in flight, to a named queue and through a topic space (topic eu.created, a group
// receiver of *.created), alternating; each run reports msgs/s, this process's CPU per message and the broker
// process's (beam.smp for RabbitMQ, mosquitto for Mosquitto, read from /proc: a local broker only).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Backend, Queue } from '@mq/core';
import { waitForStatus } from '@mq/core';
import { deleteExchange, deleteQueue } from './cleanup.js';
import { AMQP_URL, MQTT_URL } from './drivers/driver.js';

const COUNT = Number(process.env.COUNT ?? 30_000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const WINDOW = 100;
const PAYLOAD = Buffer.alloc(256, 7);
const TICK_MICROS = 1e6 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

/** CPU time (user + system) of process `pid` in µs. */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * TICK_MICROS;
}

function brokerPid(family: 'amqp' | 'mqtt'): number {
  const name = family === 'amqp' ? 'beam.smp' : 'mosquitto';
  const out = execFileSync('pgrep', ['-o', '-x', name]).toString().trim();
  return Number(out.split('\n')[0]);
}

async function session(family: 'amqp' | 'mqtt', name: string, topic: boolean) {
  const module = (family === 'amqp' ? await import('@mq/amqp') : await import('@mq/mqtt')) as Record<
    string,
    unknown
  >;
  const backend = Object.values(module).find(
    (v) => typeof v === 'object' && v !== null && 'spiVersion' in v,
  ) as Backend;
  const uri = family === 'amqp' ? AMQP_URL : MQTT_URL;
  const routing = topic ? { routing: 'topic' } : {};
  let received = 0;
  let onReceived = (): void => {};
  const open = async (options: Record<string, unknown>): Promise<Queue> => {
    const connection = backend.createConnection({ uri });
    connection.on('error', () => {});
    connection.connect();
    const queue = backend.createQueue({ name, reliable: true, ...routing, ...options } as never, connection);
    queue.on('error', () => {});
    if (options.isRecv) {
      queue.setMsgHandler((_q, message) => {
        received += 1;
        onReceived();
        return message.ack();
      });
    }
    queue.connect();
    await waitForStatus(queue, 'connected', { timeoutMillis: 10_000 });
    return queue;
  };
  const receiver = await open({
    isRecv: true,
    prefetch: 100,
    ...(topic ? { topics: ['*.created'], group: 'bench' } : {}),
  });
  const sender = await open({ isRecv: false });
  const send = topic ? () => sender.sendMsg(PAYLOAD, { topic: 'eu.created' }) : () => sender.sendMsg(PAYLOAD);
  return {
    async run(count: number): Promise<number> {
      received = 0;
      const done = new Promise<void>((resolve) => {
        onReceived = () => {
          if (received === count) resolve();
        };
      });
      const started = performance.now();
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < count) {
          next += 1;
          await send();
        }
      };
      await Promise.all(Array.from({ length: WINDOW }, worker));
      await done;
      return (performance.now() - started) / 1000;
    },
    async close() {
      await receiver.close();
      await sender.close();
      if (family === 'amqp') {
        await deleteQueue(topic ? `${name}:bench` : name).catch(() => {});
        if (topic) await deleteExchange(name).catch(() => {});
      }
    },
  };
}

for (const family of (process.env.FAMILY ?? 'amqp,mqtt').split(',') as ('amqp' | 'mqtt')[]) {
  const pid = brokerPid(family);
  const named = await session(family, `mq-bench.cpu-named-${process.pid}`, false);
  const topic = await session(family, `mq-bench.cpu-topic-${process.pid}`, true);
  await named.run(COUNT / 4);
  await topic.run(COUNT / 4);
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [label, s] of round % 2 === 0
      ? ([
          ['named', named],
          ['topic', topic],
        ] as const)
      : ([
          ['topic', topic],
          ['named', named],
        ] as const)) {
      const client0 = process.cpuUsage();
      const broker0 = cpuOf(pid);
      const seconds = await s.run(COUNT);
      const client = process.cpuUsage(client0);
      const broker = cpuOf(pid) - broker0;
      console.log(
        `${family} ${label.padEnd(5)} ${(COUNT / seconds).toFixed(0).padStart(6)} msgs/s  client CPU ${((client.user + client.system) / COUNT).toFixed(1)} µs/msg  broker CPU ${(broker / COUNT).toFixed(1)} µs/msg (${((broker / 1e6 / seconds) * 100).toFixed(0)} % of a core)`,
      );
    }
  }
  await named.close();
  await topic.close();
}
process.exit(0);
