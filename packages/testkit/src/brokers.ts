/** The AMQP broker tests use: `MQ_TEST_AMQP_URL`, else RabbitMQ on 127.0.0.1:5672 as guest. */
export function amqpTestUrl(): string {
  return process.env.MQ_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
}

/** The MQTT broker tests use: `MQ_TEST_MQTT_URL`, else Mosquitto on 127.0.0.1:1883. */
export function mqttTestUrl(): string {
  return process.env.MQ_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
}

/** A URI with the given scheme where nothing listens (port 1 on loopback refuses connections). */
export function unreachableUrl(scheme: string): string {
  return `${scheme}://127.0.0.1:1`;
}

/** A name no other test run uses, made of `[a-z0-9-]` so it is a valid queue name part and client id. */
export function uniqueId(prefix = 'mq'): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
