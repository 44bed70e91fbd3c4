import { PROCESS_CHANNEL, type ProcessTrace, SEND_CHANNEL, type SendTrace } from '@mq/core';
import {
  type Attributes,
  type Counter,
  context,
  type Histogram,
  type Meter,
  type MeterProvider,
  metrics,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { errorType, messagingSystem, serverAttributes } from './attributes.js';

/** The instrumentation's name, as its tracer and meter are named. */
export const INSTRUMENTATION_NAME = '@mq/otel';
/** Its version. */
export const INSTRUMENTATION_VERSION = '0.0.0';

/** Options of {@link MqInstrumentation}. */
export interface MqInstrumentationConfig {
  /**
   * Start enabled (as `registerInstrumentations` expects); `false` waits for `enable()`.
   * @default true
   */
  enabled?: boolean;
}

/** What one traced send or handler run holds between its start and its end. */
interface Flight {
  span: Span;
  started: number;
  attributes: Attributes;
}

/**
 * OpenTelemetry instrumentation for mq, on core's `node:diagnostics_channel` channels (no module patching): a
 * PRODUCER span `send {queue}` around each `sendMsg()`, whose W3C trace context (`traceparent`, `tracestate`,
 * through the global propagator) goes in the message headers; a CONSUMER span `process {queue}` around each
 * handler run, child of the context the message carries and active while the handler runs; the messaging
 * metrics of the semantic conventions. Usable with `registerInstrumentations({ instrumentations: [new
 * MqInstrumentation()] })` (it has the members that function calls).
 */
export class MqInstrumentation {
  /** The instrumentation's name. */
  readonly instrumentationName = INSTRUMENTATION_NAME;
  /** Its version. */
  readonly instrumentationVersion = INSTRUMENTATION_VERSION;
  #config: MqInstrumentationConfig;
  #tracer: Tracer;
  #meter: Meter;
  #instruments!: {
    sent: Counter;
    consumed: Counter;
    operation: Histogram;
    processing: Histogram;
  };
  #enabled = false;
  readonly #flights = new WeakMap<object, Flight>();

  /** Creates it, enabled unless `config.enabled` is false, on the global tracer and meter providers. */
  constructor(config: MqInstrumentationConfig = {}) {
    this.#config = { ...config };
    this.#tracer = trace.getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
    this.#meter = metrics.getMeter(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
    this.#makeInstruments();
    if (config.enabled !== false) this.enable();
  }

  /** Subscribes to mq's channels (idempotent). */
  enable(): void {
    if (this.#enabled) return;
    this.#enabled = true;
    SEND_CHANNEL.subscribe(this.#sendHandlers);
    PROCESS_CHANNEL.subscribe(this.#processHandlers);
  }

  /** Unsubscribes (idempotent): mq then pays nothing for tracing. */
  disable(): void {
    if (!this.#enabled) return;
    this.#enabled = false;
    SEND_CHANNEL.unsubscribe(this.#sendHandlers);
    PROCESS_CHANNEL.unsubscribe(this.#processHandlers);
  }

  /** Uses `provider` for spans from now on. */
  setTracerProvider(provider: TracerProvider): void {
    this.#tracer = provider.getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
  }

  /** Uses `provider` for metrics from now on. */
  setMeterProvider(provider: MeterProvider): void {
    this.#meter = provider.getMeter(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
    this.#makeInstruments();
  }

  /** Replaces the configuration. */
  setConfig(config: MqInstrumentationConfig): void {
    this.#config = { ...config };
  }

  /** The configuration. */
  getConfig(): MqInstrumentationConfig {
    return { ...this.#config };
  }

  #makeInstruments(): void {
    const meter = this.#meter;
    this.#instruments = {
      sent: meter.createCounter('messaging.client.sent.messages', {
        description: 'Messages a producer attempted to send',
        unit: '{message}',
      }),
      consumed: meter.createCounter('messaging.client.consumed.messages', {
        description: 'Messages delivered to a consumer',
        unit: '{message}',
      }),
      operation: meter.createHistogram('messaging.client.operation.duration', {
        description: 'Duration of a messaging operation (a send, until the broker confirmed it)',
        unit: 's',
      }),
      processing: meter.createHistogram('messaging.process.duration', {
        description: 'Duration of processing a message (the handler run)',
        unit: 's',
      }),
    };
  }

  readonly #sendHandlers = {
    end: ignore,
    asyncStart: ignore,
    start: (message: unknown): void => {
      const send = message as SendTrace;
      const attributes: Attributes = {
        'messaging.system': messagingSystem(send.backend),
        'messaging.operation.name': 'send',
        'messaging.operation.type': 'send',
        'messaging.destination.name': send.destination,
        'messaging.message.body.size': send.payloadSize,
        ...(send.options.messageId === undefined ? {} : { 'messaging.message.id': send.options.messageId }),
        ...(send.options.correlationId === undefined
          ? {}
          : { 'messaging.message.conversation_id': send.options.correlationId }),
        ...topicAttributes(send.backend, send.options.topic),
        ...serverAttributes(send.address),
      };
      const span = this.#tracer.startSpan(`send ${send.destination}`, {
        kind: SpanKind.PRODUCER,
        attributes,
      });
      if (send.carriesMetadata) {
        propagation.inject(trace.setSpan(context.active(), span), send.options.headers);
      }
      this.#flights.set(send, { span, started: performance.now(), attributes: metricAttributes(attributes) });
    },
    asyncEnd: (message: unknown): void => this.#endSend(message as SendTrace),
    error: (message: unknown): void => {
      const send = message as SendTrace;
      const flight = this.#flights.get(send);
      if (!flight) return;
      failed(flight, send.error);
      // A send that threw synchronously has no asyncEnd: end it here.
      queueMicrotask(() => this.#endSend(send));
    },
  };

  #endSend(send: SendTrace): void {
    const flight = this.#flights.get(send);
    if (!flight) return;
    this.#flights.delete(send);
    flight.span.end();
    this.#instruments.sent.add(1, flight.attributes);
    this.#instruments.operation.record((performance.now() - flight.started) / 1000, flight.attributes);
  }

  readonly #processHandlers = {
    end: ignore,
    asyncStart: ignore,
    start: (message: unknown): void => {
      const run = message as ProcessTrace;
      const { message: received } = run;
      const attributes: Attributes = {
        'messaging.system': messagingSystem(run.backend),
        'messaging.operation.name': 'process',
        'messaging.operation.type': 'process',
        'messaging.destination.name': run.destination,
        'messaging.message.body.size': run.payloadSize,
        ...(received.messageId === undefined ? {} : { 'messaging.message.id': received.messageId }),
        ...(received.correlationId === undefined
          ? {}
          : { 'messaging.message.conversation_id': received.correlationId }),
        ...(received.deliveryCount === undefined
          ? {}
          : { 'messaging.message.delivery_count': received.deliveryCount }),
        ...topicAttributes(run.backend, received.topic),
        ...serverAttributes(run.address),
      };
      // From the root: a message without trace context starts a trace of its own, never a child of whatever
      // happens to be active when it arrives.
      const parent = propagation.extract(ROOT_CONTEXT, received.headers);
      const span = this.#tracer.startSpan(
        `process ${run.destination}`,
        { kind: SpanKind.CONSUMER, attributes },
        parent,
      );
      const active = trace.setSpan(parent, span);
      run.around = (handler) => context.with(active, handler);
      this.#flights.set(run, { span, started: performance.now(), attributes: metricAttributes(attributes) });
      this.#instruments.consumed.add(1, metricAttributes(attributes));
    },
    asyncEnd: (message: unknown): void => {
      const run = message as ProcessTrace;
      const flight = this.#flights.get(run);
      if (!flight) return;
      this.#flights.delete(run);
      flight.span.end();
      this.#instruments.processing.record((performance.now() - flight.started) / 1000, flight.attributes);
    },
    error: (message: unknown): void => {
      const run = message as ProcessTrace;
      const flight = this.#flights.get(run);
      if (flight) failed(flight, run.error);
    },
  };
}

/** For the tracing-channel events the instrumentation has nothing to do on. */
function ignore(): void {}

/** Marks a span failed: its status, `error.type`, and the exception. */
function failed(flight: Flight, error: unknown): void {
  const type = errorType(error);
  flight.attributes = { ...flight.attributes, 'error.type': type };
  flight.span.setAttribute('error.type', type);
  flight.span.setStatus({
    code: SpanStatusCode.ERROR,
    message: describe(error),
  });
  if (error instanceof Error) flight.span.recordException(error);
}

/** The error as text; never throws (a subscriber that throws would surface in mq's hot path). */
function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  try {
    return String(error);
  } catch {
    return 'unprintable error';
  }
}

/** A topic message's topic (its destination within the space the span is named after); RabbitMQ's routing key. */
const TOPIC_ATTRIBUTE = 'mq.topic';
const ROUTING_KEY_ATTRIBUTE = 'messaging.rabbitmq.destination.routing_key';

/** The attributes of a message's topic, if it has one: `mq.topic`, and on RabbitMQ the routing key it is. */
function topicAttributes(backend: string, topic: string | undefined): Attributes {
  if (topic === undefined) return {};
  return messagingSystem(backend) === 'rabbitmq'
    ? { [TOPIC_ATTRIBUTE]: topic, [ROUTING_KEY_ATTRIBUTE]: topic }
    : { [TOPIC_ATTRIBUTE]: topic };
}

/** The attributes metrics keep: low-cardinality ones only (no message or conversation id, no body size, no topic). */
function metricAttributes(attributes: Attributes): Attributes {
  const {
    'messaging.message.id': _id,
    'messaging.message.conversation_id': _conversation,
    'messaging.message.body.size': _size,
    'messaging.message.delivery_count': _count,
    [TOPIC_ATTRIBUTE]: _topic,
    [ROUTING_KEY_ATTRIBUTE]: _key,
    ...kept
  } = attributes;
  return kept;
}
