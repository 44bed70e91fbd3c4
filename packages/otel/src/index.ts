export { errorType, messagingSystem, serverAttributes } from './attributes.js';
export {
  INSTRUMENTATION_NAME,
  INSTRUMENTATION_VERSION,
  MqInstrumentation,
  type MqInstrumentationConfig,
} from './instrumentation.js';
