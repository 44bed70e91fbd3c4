import { applyDecorators, UseInterceptors } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import { MqErrorInterceptor } from './interceptor.js';
import type { MqQueueOptions } from './options.js';
import type { MqTopicPattern } from './topic.js';
import { MQ_TRANSPORT } from './transport.js';

/** One interceptor serves every handler: it keeps no state of its own. */
const KEEP_ERRORS = new MqErrorInterceptor();

/**
 * `@EventPattern(pattern, MQ_TRANSPORT, options)` with the queue options typed: the handler receives the
 * messages of the queue named `pattern` (or of each queue an array names; a `{ space, topic }` pattern takes
 * the matching topics of a topic space, see {@link MqTopicPattern}) on `MqServer` only (not on the app's other transports), and `options`
 * (`prefetch`, `maxDeliveries`, `deadLetter`, `retryDelayMillis`, `ackTimeoutMillis`, the backend's own ...) go
 * over the module's `queueDefaults` and `queues[pattern]`. It also types a `@Ctx() ctx: MqContext` parameter,
 * which Nest 12's own `EventPattern` typing refuses under `strict`, and keeps the error a handler throws for mq's
 * failure reports (see {@link MqErrorInterceptor}).
 */
export function MqEventPattern(
  pattern: string | MqTopicPattern | readonly (string | MqTopicPattern)[],
  options: MqQueueOptions = {},
): MethodDecorator {
  const patterns = Array.isArray(pattern) ? [...pattern] : pattern;
  return applyDecorators(
    // Nest registers the handler once per pattern of an array: one receiver each, with the same options.
    EventPattern<unknown>(patterns, MQ_TRANSPORT, { ...options }),
    // On the handler itself, so that the thrown error reaches mq also where global interceptors do not apply.
    UseInterceptors(KEEP_ERRORS),
  );
}
