import type { Backend, Message, QueueOptions, StandardSchemaV1 } from '@mq/core/spi';
import { memoryBackend } from '@mq/memory';
import { brokenBackend, brokenOptions, override, replaced, wrapHandler } from './broken-backends.js';

// Deliberately broken variants of @mq/memory for the codec, schema and concurrency cases: each is a mistake an
// implementation could make, built from the public API (options changed, handlers wrapped, methods replaced).

type Options = QueueOptions<unknown> & Record<string, unknown>;

/** `message` with another body. */
function withBody(message: Message, body: unknown): Message {
  return {
    ...replaced(
      message,
      () => message.ack(),
      () => message.nack(),
    ),
    body: body as Buffer,
  };
}

/** Options without the named fields. */
function without(options: Options, ...keys: string[]): Options {
  const copy: Options = { ...options };
  for (const key of keys) delete copy[key];
  return copy;
}

/** Receivers hand out the payload as the body: nothing is decoded. */
export const decodesNothing = brokenBackend('decodes-nothing', (queue, options) => {
  if (!options.isRecv) return queue;
  return wrapHandler(queue, (handler) => (q, message) => handler(q, withBody(message, message.payload)));
});

/** A receiver without codec hands out the payload as text, not as bytes. */
export const bytesAsText = brokenOptions('bytes-as-text', (options) =>
  options.isRecv && (options.codec === undefined || options.codec === 'bytes')
    ? { ...options, codec: 'text' }
    : options,
);

/**
 * A 'json' receiver that decodes every payload as JSON whatever its content type says (decoding in the handler
 * wrapper, so a payload that is not JSON makes the handler fail).
 */
export const ignoresContentType: Backend = {
  ...memoryBackend,
  name: 'ignores-content-type',
  createQueue: (options, connection) => {
    if (!options.isRecv || options.codec !== 'json') return memoryBackend.createQueue(options, connection);
    const queue = memoryBackend.createQueue(without(options, 'codec'), connection);
    return wrapHandler(
      queue,
      (handler) => (q, message) => handler(q, withBody(message, JSON.parse(message.payload.toString()))),
    );
  },
};

/** Senders ignore their schema. */
export const schemaIgnoredOnSend = brokenOptions('schema-ignored-on-send', (options) =>
  options.isRecv ? options : without(options, 'schema'),
);

/**
 * Receivers decode and validate in the handler: an invalid message is a handler failure, retried (and dead-lettered
 * only after maxDeliveries), as apps that parse by hand do today.
 */
export const invalidRetried: Backend = {
  ...memoryBackend,
  name: 'invalid-retried',
  createQueue: (options, connection) => {
    if (!options.isRecv || options.codec !== 'json') return memoryBackend.createQueue(options, connection);
    const schema = options.schema as StandardSchemaV1 | undefined;
    // Retried every 10 ms rather than at once: a loop in microtasks would starve the case's own timers.
    const plain = { ...without(options, 'codec', 'schema'), retryDelayMillis: 10 };
    const queue = memoryBackend.createQueue(
      plain.deadLetter === undefined ? plain : { ...plain, maxDeliveries: 3 },
      connection,
    );
    return wrapHandler(queue, (handler) => (q, message) => {
      const body: unknown = JSON.parse(message.payload.toString());
      const result = schema?.['~standard'].validate(body);
      if (result && !(result instanceof Promise) && result.issues) throw new Error('invalid body');
      return handler(q, withBody(message, body));
    });
  },
};

/** Receivers ignore `concurrency`. */
export const ignoresConcurrency = brokenOptions('ignores-concurrency', (options) =>
  without(options, 'concurrency'),
);

/** `setConcurrency()` does nothing. */
export const setConcurrencyDoesNothing = brokenBackend('set-concurrency-does-nothing', (queue) =>
  override(queue, { setConcurrency: () => {} }),
);

/** Receivers ignore `orderingKey`. */
export const ignoresOrderingKey = brokenOptions('ignores-ordering-key', (options) =>
  without(options, 'orderingKey'),
);

/** Every message gets the same key: one slow key holds up all the others. */
export const oneKeyForAll = brokenOptions('one-key-for-all', (options) =>
  options.orderingKey === undefined ? options : { ...options, orderingKey: () => 'all' },
);
