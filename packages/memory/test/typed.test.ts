import {
  type Codec,
  type Message,
  MqError,
  type Queue,
  type StandardSchemaV1,
  waitForStatus,
} from '@mq/core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { MemoryConnection, MemoryQueue } from '../src/index.js';

// Typed messages beyond the contract: the option checks, the types apps see, async schemas, messages() loops.
let counter = 0;

interface Order {
  id: number;
  item: string;
}

/** A Standard Schema v1 validator by hand; `delayMillis` makes it async. */
function orderSchema(delayMillis?: number): StandardSchemaV1<unknown, Order> {
  const check = (value: unknown): StandardSchemaV1.Result<Order> => {
    const order = value as Partial<Order> | null;
    return typeof order === 'object' &&
      order !== null &&
      typeof order.id === 'number' &&
      typeof order.item === 'string'
      ? { value: { id: order.id, item: order.item.trim() } }
      : { issues: [{ message: 'expected an order', path: [{ key: 'id' }] }] };
  };
  return {
    '~standard': {
      version: 1,
      vendor: 'test',
      validate: (value) =>
        delayMillis === undefined
          ? check(value)
          : new Promise((resolve) => setTimeout(() => resolve(check(value)), delayMillis)),
    },
  };
}

const words: Codec<string[]> = {
  contentType: 'application/x-words',
  encode: (list) => Buffer.from(list.join(' ')),
  decode: (payload) => payload.toString().split(' '),
};

async function connection(): Promise<MemoryConnection> {
  counter += 1;
  const conn = new MemoryConnection({ uri: `memory://typed-${counter}` });
  conn.connect();
  await waitForStatus(conn, 'connected');
  return conn;
}

function name(): string {
  counter += 1;
  return `typed-${counter}`;
}

describe('the types of typed queues', () => {
  it('infer the body type from a schema, a codec object or the type argument; a plain queue stays a Buffer queue', async () => {
    const conn = await connection();
    const n = name();
    const fromSchema = new MemoryQueue({ name: n, isRecv: true, codec: 'json', schema: orderSchema() }, conn);
    expectTypeOf(fromSchema).toEqualTypeOf<MemoryQueue<Order>>();
    fromSchema.setMsgHandler((_queue, message) => {
      expectTypeOf(message.body).toEqualTypeOf<Order>();
      expectTypeOf(message.payload).toEqualTypeOf<Buffer>();
    });
    const fromCodec = new MemoryQueue({ name: n, isRecv: false, codec: words }, conn);
    expectTypeOf(fromCodec.sendMsg).parameter(0).toEqualTypeOf<string[]>();
    const given = new MemoryQueue<Order>({ name: n, isRecv: false, codec: 'json' }, conn);
    expectTypeOf(given.sendMsg).parameter(0).toEqualTypeOf<Order>();
    const text = new MemoryQueue<string>({ name: n, isRecv: false, codec: 'text' }, conn);
    expectTypeOf(text.sendMsg).parameter(0).toEqualTypeOf<string>();
    const plain = new MemoryQueue({ name: n, isRecv: true }, conn);
    expectTypeOf(plain).toEqualTypeOf<MemoryQueue<Buffer>>();
    expectTypeOf(plain.sendMsg).parameter(0).toEqualTypeOf<Uint8Array>();
    expectTypeOf(plain.messages()).toEqualTypeOf<AsyncIterableIterator<Message<Buffer>>>();
    const keyed = new MemoryQueue<Order>(
      { name: n, isRecv: true, codec: 'json', orderingKey: (message) => String(message.body.id) },
      conn,
    );
    expectTypeOf(keyed).toMatchTypeOf<Queue<Order>>();
    // @ts-expect-error 'json' needs a body type: without one the queue is a Buffer queue.
    new MemoryQueue({ name: n, isRecv: false, codec: 'json' }, conn);
    // @ts-expect-error 'text' is for string bodies.
    new MemoryQueue<number>({ name: n, isRecv: false, codec: 'text' }, conn);
    // @ts-expect-error a number is not an Order.
    void given.sendMsg(7).catch(() => {});
    await conn.close();
  });
});

describe('typed queue options', () => {
  it('refuse a codec, schema, concurrency or orderingKey that is not one, naming the field', async () => {
    const conn = await connection();
    const make =
      (extra: Record<string, unknown>, isRecv = true) =>
      () =>
        new MemoryQueue({ name: name(), isRecv, ...extra } as never, conn);
    expect(make({ codec: 'xml' })).toThrow(/codec must be 'bytes', 'json', 'text' or an object/);
    expect(make({ codec: { contentType: 'nope', encode: () => {}, decode: () => {} } })).toThrow(
      /codec must be/,
    );
    expect(make({ schema: { validate: () => ({}) } })).toThrow(
      /schema must be a Standard Schema v1 validator/,
    );
    expect(make({ concurrency: 0 })).toThrow('concurrency must be an integer from 1 to 65535, got 0');
    expect(make({ concurrency: 2 }, false)).toThrow('concurrency is for receivers only');
    expect(make({ orderingKey: 'id' })).toThrow('orderingKey must be a function of the message');
    expect(make({ deadLetter: 'elsewhere' })).toThrow(/deadLetter needs maxDeliveries/);
    expect(make({ deadLetter: 'elsewhere', codec: 'json' })).not.toThrow();
    await conn.close();
  });

  it('a send whose body the codec cannot encode, or whose content type contradicts the codec, rejects with INVALID_ARGUMENT', async () => {
    const conn = await connection();
    const send = new MemoryQueue<unknown>({ name: name(), isRecv: false, codec: 'json' }, conn);
    send.connect();
    await waitForStatus(send, 'connected');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(send.sendMsg(cyclic)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(send.sendMsg(undefined)).rejects.toThrow(/has no JSON form/);
    await expect(send.sendMsg({}, { contentType: 'text/plain' })).rejects.toThrow(
      /contradicts the json codec/,
    );
    await expect(
      send.sendMsg({}, { contentType: 'application/json; charset=utf-8' }),
    ).resolves.toBeUndefined();
    await conn.close();
  });
});

describe('async schemas and messages() loops', () => {
  it('an async schema checks sends and receives; its output (trimmed) is the body; close() waits for a check in flight', async () => {
    const conn = await connection();
    const n = name();
    const got: Order[] = [];
    const errors: MqError[] = [];
    const receiver = new MemoryQueue({ name: n, isRecv: true, codec: 'json', schema: orderSchema(5) }, conn);
    receiver.on('error', (error) => errors.push(error));
    receiver.setMsgHandler(async (_queue, message) => {
      got.push(message.body);
      await message.ack();
    });
    receiver.connect();
    const send = new MemoryQueue({ name: n, isRecv: false, codec: 'json', schema: orderSchema(5) }, conn);
    send.connect();
    const plain = new MemoryQueue({ name: n, isRecv: false }, conn);
    plain.connect();
    await Promise.all([receiver, send, plain].map((queue) => waitForStatus(queue, 'connected')));
    const refused = await send.sendMsg({ id: 1 } as Order).catch((error: unknown) => error);
    expect(MqError.hasCode(refused, 'INVALID_ARGUMENT')).toBe(true);
    expect((refused as MqError).message).toContain('id: expected an order');
    await send.sendMsg({ id: 2, item: '  soup  ' });
    await plain.sendMsg(Buffer.from('{"id":"3"}'));
    const deadline = Date.now() + 5000;
    while ((got.length < 1 || errors.length < 1) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    expect(got).toEqual([{ id: 2, item: 'soup' }]);
    expect(errors.map((e) => e.code)).toEqual(['INVALID_PAYLOAD']);
    await receiver.close();
    await conn.close();
  });

  it('a messages() loop yields decoded bodies, and an invalid message never reaches it', async () => {
    const conn = await connection();
    const n = name();
    const receiver = new MemoryQueue<string[]>({ name: n, isRecv: true, codec: words }, conn);
    const errors: MqError[] = [];
    receiver.on('error', (error) => errors.push(error));
    const plain = new MemoryQueue({ name: n, isRecv: false }, conn);
    plain.connect();
    const loop = receiver.messages();
    expectTypeOf(loop).toEqualTypeOf<AsyncIterableIterator<Message<string[]>>>();
    await waitForStatus(plain, 'connected');
    await plain.sendMsg(Buffer.from('a b c'), { contentType: 'application/x-words' });
    const first = await loop.next();
    expect(first.done).toBe(false);
    expect(first.value?.body).toEqual(['a', 'b', 'c']);
    await first.value?.ack();
    await loop.return?.();
    await conn.close();
  });
});
