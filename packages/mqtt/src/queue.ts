import { BaseQueue, MqError, toMqError } from '@mq/core';
import type { IPublishPacket } from 'mqtt';
import type { MqttConnection, ReceiverSink } from './connection.js';
import type { MqttLink } from './link.js';
import { MqttMessage } from './message.js';
import { PKG } from './options.js';
import {
  type MqttQueueOptions,
  type ResolvedMqttQueueOptions,
  resolveMqttQueueOptions,
  subscriptionFilter,
} from './queue-options.js';

/**
 * A sender or receiver on an {@link MqttConnection}. Topic = queue name; best effort = QoS 0, reliable = QoS 1;
 * broadcast receivers subscribe to the topic, unicast receivers to `<sharedPrefix><name>`. A reliable
 * receiver's PUBACK goes out only when its handler calls `ack()`.
 */
export class MqttQueue extends BaseQueue implements ReceiverSink {
  /** The MQTT-specific options after validation. */
  readonly mqttOptions: Readonly<ResolvedMqttQueueOptions>;
  /** The topic filter a receiver subscribes to. */
  readonly topicFilter: string;
  readonly #conn: MqttConnection;
  /** The link the subscription lives on, while receiving. */
  #link: MqttLink | undefined;
  #accepting = false;

  /** Validates the options; the queue starts `closed`. */
  constructor(options: MqttQueueOptions, connection: MqttConnection) {
    const resolved = resolveMqttQueueOptions(options);
    super(PKG, resolved, connection);
    this.mqttOptions = Object.freeze(resolved);
    this.topicFilter = subscriptionFilter(resolved);
    this.#conn = connection;
  }

  /** Starts opening; a receiver throws `UNSUPPORTED` when its connection already has a receiver of this name. */
  override connect(): void {
    if (this.status !== 'closed' || !this.isRecv) {
      super.connect();
      return;
    }
    this.#conn.claimTopic(this.name, this);
    try {
      super.connect();
    } catch (error) {
      this.#conn.releaseTopic(this.name, this);
      throw error;
    }
  }

  /** SPI: takes an incoming message; false unless receiving on `link`. */
  take(link: MqttLink, packet: IPublishPacket): boolean {
    if (!this.#accepting || link !== this.#link) return false;
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    this.deliver(
      new MqttMessage(
        payload,
        () => this.#ack(link, packet),
        () => this.#nack(link, packet),
      ),
    );
    return true;
  }

  protected override async open(): Promise<void> {
    const link = this.#liveLink();
    if (!this.isRecv) return;
    const qos = this.options.reliable ? 1 : 0;
    let granted: number | undefined;
    try {
      const grants = await link.guard(link.client.subscribeAsync(this.topicFilter, { qos }));
      granted = grants[0]?.qos;
    } catch (error) {
      throw toMqError(error, 'BROKER', `[${PKG}] subscribing to '${this.topicFilter}' failed`);
    }
    if (granted === undefined || granted >= 0x80 || granted < qos) {
      throw new MqError(
        'BROKER',
        `[${PKG}] the broker refused the subscription to '${this.topicFilter}' at QoS ${qos} (granted ${String(granted)})`,
      );
    }
    if (this.#liveLink() !== link) throw lost(this.name);
    this.#link = link;
    this.#accepting = true;
    for (const packet of link.takeOrphans(this.name)) this.take(link, packet);
  }

  protected override publish(payload: Uint8Array): Promise<void> {
    const link = this.#liveLink();
    // Copied: the socket may hold the buffer after this call returns, and the caller may reuse theirs.
    // A dropped link rejects at once with CONNECTION_LOST: no send waits for a PUBACK that cannot come.
    return link.publish(this.name, Buffer.from(payload), this.#qos, this.#sendError);
  }

  readonly #sendError = (error: Error): MqError =>
    typeof (error as { code?: unknown }).code === 'number'
      ? toMqError(error, 'REJECTED', `[${PKG}] the broker refused a message on '${this.name}'`)
      : toMqError(error, 'CONNECTION_LOST', `[${PKG}] send on '${this.name}' failed`);

  get #qos(): 0 | 1 {
    return this.options.reliable ? 1 : 0;
  }

  protected override async stopReceiving(): Promise<void> {
    this.#accepting = false;
  }

  protected override async release(): Promise<void> {
    this.#accepting = false;
    const link = this.#link;
    this.#link = undefined;
    if (!this.isRecv) return;
    this.#conn.releaseTopic(this.name, this);
    // A persistent session keeps the subscription, like a durable queue: messages sent while no receiver runs
    // wait in the session. A clean session drops it.
    if (!link?.alive || !this.#conn.settings.cleanSession) return;
    try {
      await link.guard(link.client.unsubscribeAsync(this.topicFilter));
    } catch (error) {
      if (MqError.hasCode(error, 'CONNECTION_LOST') || MqError.hasCode(error, 'CLOSED')) return;
      throw toMqError(error, 'BROKER', `[${PKG}] unsubscribing from '${this.topicFilter}' failed`);
    }
  }

  protected override linkDown(): void {
    this.#accepting = false;
    this.#link = undefined;
  }

  #liveLink(): MqttLink {
    const link = this.#conn.link;
    if (!link?.alive) throw lost(this.name);
    return link;
  }

  async #ack(link: MqttLink, packet: IPublishPacket): Promise<void> {
    if (packet.qos === 0) return;
    if (!link.puback(packet.messageId as number)) {
      throw new MqError(
        'ACK_FAILED',
        `[${PKG}] cannot ack on '${this.name}': the link it came on is gone; the broker redelivers it if the session persists`,
      );
    }
  }

  async #nack(link: MqttLink, packet: IPublishPacket): Promise<void> {
    if (!this.#accepting || link !== this.#link || !link.alive) {
      throw new MqError(
        'ACK_FAILED',
        `[${PKG}] cannot redeliver on '${this.name}': the receiver is closing or its link is gone; the message stays unacked`,
      );
    }
    // MQTT has no negative ack: the message stays unacked at the broker and goes to this receiver again.
    setImmediate(() => {
      if (this.take(link, packet)) return;
      if (packet.qos > 0 && link.alive) link.keepOrphan(packet);
    });
  }
}

function lost(name: string): MqError {
  return new MqError('CONNECTION_LOST', `[${PKG}] the connection of '${name}' has no open link`);
}
