import { BaseConnection } from '@mq/core/spi';
import { MqttConnectionDriver, mqttDriverOf, registerDriver } from './connection-driver.js';
import { errors } from './errors.js';
import {
  type MqttConnectionOptions,
  type ResolvedConnectionOptions,
  resolveConnectionOptions,
} from './options.js';

/**
 * A connection to an MQTT broker through mqtt.js. One connection carries many queues; incoming messages go
 * only to the receiver of their topic. mqtt.js's own reconnect is off: this connection reconnects after every
 * loss, backing off while attempts fail or links keep dropping soon after connecting (such as a client id fight).
 */
export class MqttConnection extends BaseConnection {
  /** The validated options, with the client id in use (random unless given). */
  readonly settings: Readonly<ResolvedConnectionOptions>;

  /** Validates the options (never mutating them); the connection starts `closed`. */
  constructor(options: MqttConnectionOptions = {}) {
    const settings = Object.freeze(resolveConnectionOptions(options));
    let driver: MqttConnectionDriver | undefined;
    super({
      errors,
      reconnectMillis: settings.reconnectMillis,
      reconnectMaxMillis: settings.reconnectMaxMillis,
      addresses: settings.addresses.map((address) => address.safeUri),
      link: (core) => {
        driver = new MqttConnectionDriver(core, settings);
        return driver;
      },
    });
    this.settings = settings;
    registerDriver(this, driver as MqttConnectionDriver);
  }

  /** The MQTT client identifier this connection uses. */
  get clientId(): string {
    return this.settings.clientId;
  }

  /** True when the broker resumed a stored session on the current link (`cleanSession: false`). */
  get sessionPresent(): boolean {
    return mqttDriverOf(this)?.link?.sessionPresent ?? false;
  }

  /** Drops the network link as a failure would (no DISCONNECT); the connection reconnects by itself. For tests. */
  simulateDrop(): void {
    mqttDriverOf(this)?.link?.destroy();
  }
}
