import { type MqttConnection, mqttBackend } from '../src/index.js';
import { mqttTestUrl, runContract, uniqueId, unreachableUrl } from '@mq/testkit';

// The whole contract against the Mosquitto under test (MQTT 5), each connection with its own client id.
runContract({
  backend: mqttBackend,
  connectionOptions: () => ({ uri: mqttTestUrl(), clientId: uniqueId('ct'), reconnectMillis: 100 }),
  unreachableConnectionOptions: () => ({ uri: unreachableUrl('mqtt'), reconnectMillis: 50 }),
  faults: {
    dropConnection: async (connection) => (connection as MqttConnection).simulateDrop(),
  },
});
