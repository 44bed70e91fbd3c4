import type { ContractTarget } from '@mq/core/contract';
import { mqttTestUrl, uniqueId, unreachableUrl } from '@mq/testkit';
import { type MqttConnection, mqttBackend } from '../src/index.js';

/** The contract target for the Mosquitto under test, speaking `protocolVersion`; a fresh client id per connection. */
export function mosquittoTarget(protocolVersion: 4 | 5): ContractTarget {
  const brokerUrl = new URL(mqttTestUrl());
  return {
    // MQTT 3.1.1 has no message properties: its connections refuse metadata and requests, and the contract checks that.
    backend:
      protocolVersion === 5
        ? mqttBackend
        : {
            ...mqttBackend,
            capabilities: {
              ...mqttBackend.capabilities,
              metadata: false,
              deadLetter: false,
              requestReply: false,
            },
          },
    connectionOptions: () => ({
      uri: mqttTestUrl(),
      clientId: uniqueId(`ct${protocolVersion}`),
      protocolVersion,
      reconnectMillis: 100,
    }),
    // A session of its own per call, kept by Mosquitto for the session cases (expiring after 5 minutes on MQTT 5).
    sessionConnectionOptions: () => ({
      uri: mqttTestUrl(),
      clientId: uniqueId(`cs${protocolVersion}`),
      cleanSession: false,
      protocolVersion,
      reconnectMillis: 100,
      ...(protocolVersion === 5 ? { sessionExpirySeconds: 300 } : {}),
    }),
    unreachableConnectionOptions: () => ({ uri: unreachableUrl('mqtt'), reconnectMillis: 50 }),
    faults: {
      dropConnection: async (connection) => (connection as MqttConnection).simulateDrop(),
      silentBroker: {
        address: { host: brokerUrl.hostname, port: Number(brokerUrl.port || 1883) },
        connectionOptions: (proxyPort) => ({
          uri: `mqtt://127.0.0.1:${proxyPort}`,
          clientId: uniqueId(`ct${protocolVersion}`),
          protocolVersion,
          keepaliveSeconds: 0,
          connectTimeoutMillis: 1000,
          reconnectMillis: 100,
        }),
        heartbeatOptions: (proxyPort, seconds) => ({
          uri: `mqtt://127.0.0.1:${proxyPort}`,
          clientId: uniqueId(`ct${protocolVersion}`),
          protocolVersion,
          keepaliveSeconds: seconds,
          connectTimeoutMillis: 1000,
          reconnectMillis: 100,
        }),
      },
    },
  };
}
