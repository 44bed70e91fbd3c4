export { MqClient } from './client.js';
export { MqContext, type MqContextArgs } from './context.js';
export type { MqTransportEvents } from './events.js';
export { type MqHealthEntry, MqHealthIndicator, type MqHealthResult, type MqHealthSource } from './health.js';
export { MqErrorInterceptor } from './interceptor.js';
export {
  MQ_MODULE_OPTIONS,
  type MqFeatureOptions,
  MqModule,
  type MqModuleAsyncOptions,
  type MqModuleOptions,
} from './module.js';
export { DEFAULT_START_TIMEOUT_MILLIS, type MqQueueOptions, type MqTransportOptions } from './options.js';
export { MqEventPattern } from './pattern.js';
export { MqRecord } from './record.js';
export { MqServer } from './server.js';
export type { MqTopicPattern } from './topic.js';
export { MQ_TRANSPORT } from './transport.js';
export type { MqConnectionHealth, MqLastError, MqQueueHealth, MqTransportHealth } from './watch.js';
