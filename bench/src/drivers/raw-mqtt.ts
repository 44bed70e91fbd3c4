import type { Socket } from 'node:net';
import { connectAsync, type MqttClient } from 'mqtt';
import { receiverCount, type Scenario } from '../scenarios.js';
import { type Driver, MQTT_URL, type Session } from './driver.js';

let clients = 0;

async function connect(opened: MqttClient[], quietLog: boolean): Promise<MqttClient> {
  clients += 1;
  // The same protocol and session as mq's defaults (MQTT 5, clean session, 60 s keepalive), so both do the same
  // work on the wire; mqtt.js alone would speak 3.1.1.
  const client = await connectAsync(MQTT_URL, {
    clientId: `bench-raw-${process.pid}-${clients}`,
    protocolVersion: 5,
    clean: true,
    keepalive: 60,
    reconnectPeriod: 0,
    properties: { sessionExpiryInterval: 0 },
    // --raw-quiet-log: the no-op logger mq gives mqtt.js, to see mq's cost without that saving.
    ...(quietLog ? { log: () => {} } : {}),
  });
  client.on('error', () => {});
  // The raw client at its best: no Nagle delay, as mq sets.
  (client.stream as Socket).setNoDelay?.(true);
  opened.push(client);
  return client;
}

/**
 * mqtt.js doing what mq's MQTT backend does: QoS 0 or 1, shared subscription for unicast.
 * @param quietLog - give mqtt.js the no-op logger mq gives it (its `debug` calls cost about 1 µs per message);
 *   `false` by default, as an app on mqtt.js runs
 * @param topic - `--routing`: publish and subscribe as mq's topic routing does; `false` by default
 */
export const rawMqttDriver = (quietLog = false, topic = false): Driver => ({
  name: 'raw',
  async open(s: Scenario, name: string, onDelivery): Promise<Session> {
    const opened: MqttClient[] = [];
    const qos = s.mode === 'best-effort' ? 0 : 1;
    // With topic (--routing): what mq's topic routing does, topic eu.created and pattern *.created in space name.
    const sent = topic ? `${name}/eu/created` : name;
    const pattern = topic ? `${name}/+/created` : name;
    const filter = s.topology === 'broadcast-1to3' ? pattern : `$share/bench/${pattern}`;
    for (let i = 0; i < receiverCount(s.topology); i += 1) {
      const client = await connect(opened, quietLog);
      client.on('message', (_topic, payload) => onDelivery(i, payload));
      await client.subscribeAsync(filter, { qos });
    }
    const sender = await connect(opened, quietLog);
    return {
      send: async (payload) => {
        await sender.publishAsync(sent, payload, { qos });
      },
      close: async () => {
        await Promise.allSettled(opened.map((client) => client.endAsync()));
      },
    };
  },
});
