import { EventPattern } from '@nestjs/microservices';
import type { MqQueueOptions } from './options.js';
import { MQ_TRANSPORT } from './transport.js';

/**
 * `@EventPattern(pattern, MQ_TRANSPORT, options)` with the queue options typed: the handler receives the
 * messages of the queue named `pattern` on `MqServer` only (not on the app's other transports), and `options`
 * (`prefetch`, `maxDeliveries`, `deadLetter`, `retryDelayMillis`, `ackTimeoutMillis`, the backend's own ...) go
 * over the module's `queueDefaults` and `queues[pattern]`. It also types a `@Ctx() ctx: MqContext` parameter,
 * which Nest 12's own `EventPattern` typing refuses under `strict`.
 */
export function MqEventPattern(pattern: string, options: MqQueueOptions = {}): MethodDecorator {
  return EventPattern<string>(pattern, MQ_TRANSPORT, { ...options });
}
