// pnpm --filter @mq/bench codec [--rounds N] [--count N] [--only amqp|mqtt]
// The 'json' codec's cost beside JSON.stringify and JSON.parse by hand: the same ~256 B order objects, reliable,
// unicast 1 -> 1, 100 sends in flight, through mq on each backend. By hand twice: without a content type, and
// with the `application/json` the codec sets (on MQTT 5 a message property, which costs on its own). The variants
// alternate, several rounds; the table gives each one's median msgs/s and the ratios.
import { parseArgs } from 'node:util';
import { AmqpConnection, AmqpQueue } from '@mq/amqp';
import { type Connection, type Queue, waitForStatus } from '@mq/core';
import { MqttConnection, MqttQueue } from '@mq/mqtt';
import { deleteQueue } from './cleanup.js';
import { AMQP_URL, MQTT_URL } from './drivers/driver.js';
import { median } from './stats.js';
import { SendWindow } from './window.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    count: { type: 'string', default: '5000' },
    only: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
const count = Number(values.count);

interface Order {
  seq: number;
  customer: string;
  items: Array<{ sku: string; quantity: number; price: number }>;
  note: string;
}

/** An order whose JSON is about 256 bytes. */
function order(seq: number): Order {
  return {
    seq,
    customer: `customer-${seq % 97}`,
    items: [
      { sku: 'tea-green-100g', quantity: 2, price: 4.5 },
      { sku: 'cake-lemon', quantity: 1, price: 12.25 },
    ],
    note: 'leave at the door, ring twice; the dog is friendly'.padEnd(110, '.'),
  };
}

type Family = 'amqp' | 'mqtt';
type Variant = 'by hand' | 'by hand + type' | "'json' codec";

function connectionFor(family: Family): Connection {
  const connection: Connection =
    family === 'amqp' ? new AmqpConnection({ uri: AMQP_URL }) : new MqttConnection({ uri: MQTT_URL });
  connection.on('error', () => {});
  connection.connect();
  return connection;
}

function queueFor<T>(family: Family, connection: Connection, options: Record<string, unknown>): Queue<T> {
  return (family === 'amqp'
    ? new AmqpQueue(options as never, connection as AmqpConnection)
    : new MqttQueue(options as never, connection as MqttConnection)) as unknown as Queue<T>;
}

/** One round: `count` orders through a fresh receiver and sender; resolves with msgs/s. */
async function round(family: Family, variant: Variant, name: string): Promise<number> {
  const recvConn = connectionFor(family);
  const sendConn = connectionFor(family);
  const codec = variant === "'json' codec" ? { codec: 'json' } : {};
  let received = 0;
  let checksum = 0;
  let done: () => void = () => {};
  const all = new Promise<void>((resolve) => {
    done = resolve;
  });
  const receiver = queueFor<Order>(family, recvConn, {
    name,
    isRecv: true,
    reliable: true,
    prefetch: 100,
    ...codec,
  });
  receiver.on('error', () => {});
  receiver.setMsgHandler((_queue, message) => {
    const body: Order =
      variant === "'json' codec" ? message.body : (JSON.parse(message.payload.toString()) as Order);
    checksum += body.items.length;
    received += 1;
    if (received === count) done();
    return message.ack();
  });
  const sender = queueFor<Order>(family, sendConn, { name, isRecv: false, reliable: true, ...codec });
  receiver.connect();
  sender.connect();
  await Promise.all([waitForStatus(receiver, 'connected'), waitForStatus(sender, 'connected')]);
  const bytes = (sender as unknown as Queue).sendMsg.bind(sender as unknown as Queue);
  const window = new SendWindow(100);
  const failed: unknown[] = [];
  const start = performance.now();
  for (let seq = 0; seq < count; seq += 1) {
    const body = order(seq);
    const sending =
      variant === "'json' codec"
        ? sender.sendMsg(body)
        : variant === 'by hand'
          ? bytes(Buffer.from(JSON.stringify(body)))
          : bytes(Buffer.from(JSON.stringify(body)), { contentType: 'application/json' });
    await window.add(sending, (error) => failed.push(error));
  }
  await window.drain();
  // A round that loses messages must end the run, not hang it.
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${variant}: ${received} of ${count} messages in 120 s`)),
      120_000,
    );
  });
  await Promise.race([all, late]).finally(() => clearTimeout(timer));
  const seconds = (performance.now() - start) / 1000;
  await Promise.all([recvConn.close(), sendConn.close()]);
  if (failed.length > 0 || checksum !== count * 2)
    throw new Error(`${variant}: ${failed.length} sends failed`);
  return count / seconds;
}

const families: Family[] = values.only === undefined ? ['amqp', 'mqtt'] : [values.only as Family];
console.log(
  `| backend | by hand (msgs/s) | by hand + content type | 'json' codec | codec / by hand | codec / by hand + type |`,
);
console.log('| --- | --- | --- | --- | --- | --- |');
for (const family of families) {
  const rates: Record<Variant, number[]> = { 'by hand': [], 'by hand + type': [], "'json' codec": [] };
  const name = `bench.codec.${family}.${process.pid}`;
  // A warm-up round of each, not counted.
  const variants: Variant[] = ['by hand', 'by hand + type', "'json' codec"];
  for (const variant of variants) await round(family, variant, name);
  for (let r = 0; r < rounds; r += 1) {
    const order = r % 2 === 0 ? variants : [...variants].reverse();
    for (const variant of order) rates[variant].push(await round(family, variant, name));
  }
  if (family === 'amqp') await deleteQueue(name);
  const hand = median(rates['by hand']);
  const typed = median(rates['by hand + type']);
  const codec = median(rates["'json' codec"]);
  console.log(
    `| ${family} | ${hand.toFixed(0)} | ${typed.toFixed(0)} | ${codec.toFixed(0)} | ${(codec / hand).toFixed(3)} | ${(codec / typed).toFixed(3)} |`,
  );
}
