import { waitForStatus } from '@mq/core';
import { MemoryConnection, MemoryQueue } from '@mq/memory';
import { MqInstrumentation } from '@mq/otel';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

// What the OpenTelemetry Node SDK sets up for an app: a tracer provider, a context manager, W3C propagation.
const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
trace.setGlobalTracerProvider(tracerProvider);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());

// #region readme
registerInstrumentations({ instrumentations: [new MqInstrumentation()] });
// #endregion readme

const conn = new MemoryConnection({ uri: 'memory://otel' });
conn.connect();
const tracer = trace.getTracer('shop');
const jobs = new MemoryQueue({ name: 'jobs', isRecv: true }, conn);
const handled = new Promise<string>((resolve) => {
  jobs.setMsgHandler(async (_queue, message) => {
    await message.ack();
    resolve(trace.getActiveSpan()?.spanContext().traceId ?? 'none');
  });
});
jobs.connect();
const out = new MemoryQueue({ name: 'jobs', isRecv: false }, conn);
out.connect();
await waitForStatus(out, 'connected');
const sentIn = await tracer.startActiveSpan('checkout', async (span) => {
  await out.sendMsg(Buffer.from('job'));
  span.end();
  return span.spanContext().traceId;
});
const handledIn = await handled;
await conn.close();
console.log(`handler ran in the sender's trace: ${handledIn === sentIn}`);
console.log(
  `spans: ${spans
    .getFinishedSpans()
    .map((s) => s.name)
    .sort()
    .join(', ')}`,
);
