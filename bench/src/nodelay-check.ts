// Opens one mq connection per backend and exits; run under `strace -f -e trace=setsockopt` to see TCP_NODELAY.
import { amqpBackend } from '@mq/amqp';
import { waitForStatus } from '@mq/core';
import { mqttBackend } from '@mq/mqtt';
import { AMQP_URL, MQTT_URL } from './drivers/driver.js';

for (const [backend, uri] of [
  [amqpBackend, AMQP_URL],
  [mqttBackend, MQTT_URL],
] as const) {
  const connection = backend.createConnection({ uri });
  connection.connect();
  await waitForStatus(connection, 'connected');
  console.log(`${backend.name} connected`);
  await connection.close();
}
