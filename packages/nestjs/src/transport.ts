/** The transport id of `MqServer`: `@EventPattern('name', MQ_TRANSPORT)` binds a handler to mq alone. */
export const MQ_TRANSPORT: unique symbol = Symbol.for('@mq/nestjs');
