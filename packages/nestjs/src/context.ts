import type { Message } from '@mq/core';
import { BaseRpcContext } from '@nestjs/microservices';

const MARKER = Symbol.for('@mq/nestjs.MqContext');

/** The arguments an {@link MqContext} holds: the message and the pattern (queue name) it came on. */
export type MqContextArgs = [message: Message, pattern: string];

/**
 * What `@Ctx()` gives a handler of `MqServer`: the mq `Message` (headers, ids, `deliveryCount`, `redelivered`,
 * `ack()`, `nack()`) and the pattern it came on.
 */
export class MqContext extends BaseRpcContext<MqContextArgs> {
  /** Holds the message and its pattern. */
  constructor(args: MqContextArgs) {
    super(args);
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True for any `MqContext`, also one made by another copy of this package (the CommonJS one beside the ESM one). */
  static isInstance(value: unknown): value is MqContext {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }

  /** The mq message being handled. Acking or nacking it yourself is allowed: the transport's ack then does nothing. */
  getMessage(): Message {
    return this.args[0];
  }

  /** The pattern (queue name) the message came on. */
  getPattern(): string {
    return this.args[1];
  }

  /** The message's topic, on a topic pattern (`{ space, topic }`); undefined on a named queue. */
  getTopic(): string | undefined {
    return this.args[0].topic;
  }
}
