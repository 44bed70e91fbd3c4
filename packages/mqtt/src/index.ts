export { mqttBackend } from './backend.js';
export { MqttConnection } from './connection.js';
export type { MqttMessage } from './message.js';
export { MQTT_SCHEMES, type MqttConnectionOptions, type MqttTlsOptions } from './options.js';
export { MqttQueue } from './queue.js';
export { DEFAULT_SHARED_PREFIX, type MqttQueueOptions } from './queue-options.js';
