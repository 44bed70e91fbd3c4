import { AmqpConnection, AmqpQueue } from '@mq/amqp';
import { type Message, PROCESS_CHANNEL, SEND_CHANNEL, waitForStatus } from '@mq/core';
import { MemoryConnection, MemoryQueue } from '@mq/memory';
import { amqpTestUrl, uniqueId } from '@mq/testkit';
import { context, propagation, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MqInstrumentation } from '../src/index.js';

/** A metric reader the test collects from by hand. */
class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const reader = new TestReader();
const meterProvider = new MeterProvider({ readers: [reader] });
const tracer = tracerProvider.getTracer('app');
const instrumentation = new MqInstrumentation();
let unregister: () => void = () => {};

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  unregister = registerInstrumentations({
    instrumentations: [instrumentation as never],
    tracerProvider,
    meterProvider,
  });
});
afterAll(() => {
  unregister();
  context.disable();
  propagation.disable();
});
beforeEach(() => exporter.reset());

function span(name: string): ReadableSpan {
  const found = exporter.getFinishedSpans().find((s) => s.name === name);
  if (!found)
    throw new Error(
      `no span ${name}: ${exporter
        .getFinishedSpans()
        .map((s) => s.name)
        .join(', ')}`,
    );
  return found;
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Sends `text` inside a span `checkout` from `send`, to a receiver whose handler starts a span `work`. */
async function tracedRoundTrip(
  send: { sendMsg(payload: Uint8Array, options?: { messageId?: string }): Promise<void> },
  handled: () => boolean,
): Promise<void> {
  await tracer.startActiveSpan('checkout', async (parent) => {
    await send.sendMsg(Buffer.from('order'), { messageId: 'order-1' });
    parent.end();
  });
  await until(handled, 'the handler');
  await until(
    () => exporter.getFinishedSpans().some((s) => s.name.startsWith('process ')),
    'the process span',
  );
}

/** A handler that starts and ends a span `work`, then acks; or throws for `fail`. */
function workHandler(seen: Message[]) {
  return async (_queue: unknown, message: Message): Promise<void> => {
    seen.push(message);
    if (message.payload.toString() === 'fail') throw new Error('bad order');
    tracer.startSpan('work').end();
    await message.ack();
  };
}

describe('MqInstrumentation', () => {
  it('one trace from the sender through the broker into the handler, on another AMQP connection', async () => {
    const name = `mq-otel-test.${uniqueId('q')}`;
    const receiving = new AmqpConnection({ uri: amqpTestUrl() });
    const sending = new AmqpConnection({ uri: amqpTestUrl() });
    receiving.connect();
    sending.connect();
    const seen: Message[] = [];
    const worker = new AmqpQueue({ name, isRecv: true }, receiving);
    worker.setMsgHandler(workHandler(seen));
    worker.connect();
    const out = new AmqpQueue({ name, isRecv: false, reliable: true }, sending);
    out.connect();
    await waitForStatus(worker, 'connected');
    await waitForStatus(out, 'connected');
    try {
      await tracedRoundTrip(out, () => seen.length === 1);
      const [checkout, send, processSpan, work] = ['checkout', `send ${name}`, `process ${name}`, 'work'].map(
        span,
      ) as [ReadableSpan, ReadableSpan, ReadableSpan, ReadableSpan];
      const traceId = checkout.spanContext().traceId;
      expect([send, processSpan, work].map((s) => s.spanContext().traceId)).toEqual([
        traceId,
        traceId,
        traceId,
      ]);
      expect(send.parentSpanContext?.spanId).toBe(checkout.spanContext().spanId);
      expect(processSpan.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
      expect(work.parentSpanContext?.spanId).toBe(processSpan.spanContext().spanId);
      expect(send.kind).toBe(SpanKind.PRODUCER);
      expect(processSpan.kind).toBe(SpanKind.CONSUMER);
      expect(send.attributes).toMatchObject({
        'messaging.system': 'rabbitmq',
        'messaging.operation.name': 'send',
        'messaging.operation.type': 'send',
        'messaging.destination.name': name,
        'messaging.message.id': 'order-1',
        'server.address': new URL(amqpTestUrl()).hostname,
      });
      expect(processSpan.attributes).toMatchObject({
        'messaging.operation.type': 'process',
        'messaging.message.id': 'order-1',
        'server.address': new URL(amqpTestUrl()).hostname,
      });
      expect(seen[0]?.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    } finally {
      await Promise.all([receiving.close(), sending.close()]);
    }
  });

  it('a failing handler marks its process span and records error.type; metrics count sends and messages', async () => {
    const conn = new MemoryConnection({ uri: `memory://${uniqueId('otel')}` });
    conn.connect();
    const seen: Message[] = [];
    const worker = new MemoryQueue({ name: 'orders', isRecv: true }, conn);
    worker.on('error', () => {});
    worker.setMsgHandler(workHandler(seen));
    worker.connect();
    const out = new MemoryQueue({ name: 'orders', isRecv: false }, conn);
    out.connect();
    await waitForStatus(out, 'connected');
    await out.sendMsg(Buffer.from('fail'));
    await until(
      () => exporter.getFinishedSpans().some((s) => s.name === 'process orders'),
      'the process span',
    );
    const failed = span('process orders');
    expect(failed.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed.attributes['error.type']).toBe('Error');
    expect(failed.events.map((e) => e.name)).toContain('exception');
    const { resourceMetrics } = await reader.collect();
    const names = resourceMetrics.scopeMetrics.flatMap((scope) =>
      scope.metrics.map((m) => m.descriptor.name),
    );
    expect(names).toEqual(
      expect.arrayContaining([
        'messaging.client.sent.messages',
        'messaging.client.consumed.messages',
        'messaging.client.operation.duration',
        'messaging.process.duration',
      ]),
    );
    await conn.close();
  });

  it('a topic message: spans named after the space, with the topic in mq.topic; metrics leave the topic out', async () => {
    const conn = new MemoryConnection({ uri: `memory://${uniqueId('otel')}` });
    conn.connect();
    const seen: Message[] = [];
    const worker = new MemoryQueue(
      { name: 'orders', isRecv: true, routing: 'topic', topics: ['*.created'], group: 'billing' },
      conn,
    );
    worker.setMsgHandler(async (_q, message) => {
      seen.push(message);
      await message.ack();
    });
    worker.connect();
    await waitForStatus(worker, 'connected');
    const out = new MemoryQueue({ name: 'orders', isRecv: false, routing: 'topic' }, conn);
    out.connect();
    await waitForStatus(out, 'connected');
    await out.sendMsg(Buffer.from('order'), { topic: 'eu.created' });
    await until(
      () => exporter.getFinishedSpans().some((s) => s.name === 'process orders'),
      'the process span',
    );
    expect(span('send orders').attributes).toMatchObject({
      'messaging.destination.name': 'orders',
      'mq.topic': 'eu.created',
    });
    expect(span('process orders').attributes).toMatchObject({ 'mq.topic': 'eu.created' });
    const { resourceMetrics } = await reader.collect();
    const keys = resourceMetrics.scopeMetrics.flatMap((scope) =>
      scope.metrics.flatMap((m) => m.dataPoints.flatMap((point) => Object.keys(point.attributes))),
    );
    expect(keys).not.toContain('mq.topic');
    await conn.close();
  });

  it('disabled, it unsubscribes: no spans, and mq has no subscriber to pay for', async () => {
    instrumentation.disable();
    try {
      expect(SEND_CHANNEL.hasSubscribers).toBe(false);
      expect(PROCESS_CHANNEL.hasSubscribers).toBe(false);
      const conn = new MemoryConnection({ uri: `memory://${uniqueId('otel')}` });
      conn.connect();
      const seen: Message[] = [];
      const worker = new MemoryQueue({ name: 'quiet', isRecv: true }, conn);
      worker.setMsgHandler(workHandler(seen));
      worker.connect();
      const out = new MemoryQueue({ name: 'quiet', isRecv: false }, conn);
      out.connect();
      await waitForStatus(out, 'connected');
      await out.sendMsg(Buffer.from('x'));
      await until(() => seen.length === 1, 'the handler');
      expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['work']);
      expect(seen[0]?.headers).toEqual({});
      await conn.close();
    } finally {
      instrumentation.enable();
    }
  });
});
