import { type MessageMetadata, NO_HEADERS, type SendOptions } from '@mq/core/spi';
import type { IClientPublishOptions, IPublishPacket } from 'mqtt';

/** The user property that carries `SendOptions.messageId` (MQTT 5 has no message id property of its own). */
export const MESSAGE_ID_PROPERTY = 'mq-message-id';

/**
 * mqtt.js publish options for one MQTT 5 send: `qos` plus user properties (the headers, and the message id under
 * {@link MESSAGE_ID_PROPERTY}), `contentType`, `correlationData` (the correlation id, UTF-8), `responseTopic`
 * (`replyTo`) and
 * `messageExpiryInterval` (the expiration, rounded up to whole seconds, at least 1).
 */
export function publishProperties(qos: 0 | 1, options: SendOptions): IClientPublishOptions {
  // Set field by field, not spread: this runs on every send with metadata (each request, each reply).
  const properties: NonNullable<IClientPublishOptions['properties']> = {};
  let userProperties: Record<string, string> | undefined;
  if (options.headers !== undefined && Object.keys(options.headers).length > 0) {
    userProperties = { ...options.headers };
  }
  if (options.messageId !== undefined) {
    userProperties ??= {};
    userProperties[MESSAGE_ID_PROPERTY] = options.messageId;
  }
  if (userProperties !== undefined) properties.userProperties = userProperties;
  if (options.contentType !== undefined) properties.contentType = options.contentType;
  if (options.correlationId !== undefined) properties.correlationData = Buffer.from(options.correlationId);
  if (options.replyTo !== undefined) properties.responseTopic = options.replyTo;
  // MQTT counts whole seconds, and 0 would mean "never expires": at least 1 s.
  if (options.expirationMillis !== undefined) {
    properties.messageExpiryInterval = Math.max(1, Math.ceil(options.expirationMillis / 1000));
  }
  return { qos, properties };
}

/**
 * The metadata of an incoming PUBLISH: user properties as headers (a name given several times keeps its values
 * joined by `, `, as HTTP does), the message id out of them, `contentType`, `correlationData` as text;
 * `redelivered` when the broker set DUP or this client hands a nacked message again (`nacks` times).
 */
export function packetMetadata(packet: IPublishPacket, nacks: number, topic?: string): MessageMetadata {
  const properties = packet.properties;
  let headers: Readonly<Record<string, string>> = NO_HEADERS;
  let messageId: string | undefined;
  const user = properties?.userProperties;
  if (user && Object.keys(user).length > 0) {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(user)) {
      const text = Array.isArray(value) ? value.join(', ') : String(value);
      if (name === MESSAGE_ID_PROPERTY) messageId = text;
      // Defined, not assigned: a name like `__proto__` from another client stays a plain header.
      else Object.defineProperty(out, name, { value: text, enumerable: true });
    }
    headers = Object.freeze(out);
  }
  const correlation = properties?.correlationData;
  return {
    headers,
    messageId,
    correlationId: correlation === undefined ? undefined : Buffer.from(correlation).toString('utf8'),
    contentType: typeof properties?.contentType === 'string' ? properties.contentType : undefined,
    replyTo: typeof properties?.responseTopic === 'string' ? properties.responseTopic : undefined,
    redelivered: packet.dup === true || nacks > 0,
    deliveryCount: nacks > 0 ? nacks : undefined,
    // Always present, so that every delivery's metadata has one shape (a topic receiver's and a named one's).
    topic,
  };
}

/** The largest remaining length an MQTT packet can carry (four bytes of variable-length integer). */
export const MAX_REMAINING_LENGTH = 268_435_455;

/** Bytes of a variable-length integer of `value`. */
function varintBytes(value: number): number {
  return value < 128 ? 1 : value < 16_384 ? 2 : value < 2_097_152 ? 3 : 4;
}

const NO_USER_PROPERTIES: Readonly<Record<string, string | string[]>> = Object.freeze({});

/** Bytes of the MQTT 5 properties mq puts on a PUBLISH (see {@link publishProperties}), without their length. */
function propertyBytes(options: IClientPublishOptions | undefined): number {
  const properties = options?.properties;
  if (!properties) return 0;
  let bytes = 0;
  for (const [name, value] of Object.entries(properties.userProperties ?? NO_USER_PROPERTIES)) {
    for (const one of Array.isArray(value) ? value : [value])
      bytes += 5 + Buffer.byteLength(name) + Buffer.byteLength(String(one));
  }
  if (properties.contentType !== undefined) bytes += 3 + Buffer.byteLength(properties.contentType);
  if (properties.correlationData !== undefined) bytes += 3 + properties.correlationData.byteLength;
  if (properties.responseTopic !== undefined) bytes += 3 + Buffer.byteLength(properties.responseTopic);
  if (properties.messageExpiryInterval !== undefined) bytes += 5;
  return bytes;
}

/**
 * The remaining length and the whole size, in bytes, of the PUBLISH packet of a message: what the protocol
 * ceiling ({@link MAX_REMAINING_LENGTH}) and a broker's CONNACK `maximumPacketSize` are checked against.
 */
export function publishPacketSize(
  topic: string,
  payloadBytes: number,
  qos: 0 | 1,
  v5: boolean,
  options: IClientPublishOptions | undefined,
): { remaining: number; total: number } {
  const properties = v5 ? propertyBytes(options) : 0;
  const remaining =
    2 +
    Buffer.byteLength(topic) +
    (qos > 0 ? 2 : 0) +
    (v5 ? varintBytes(properties) + properties : 0) +
    payloadBytes;
  return { remaining, total: 1 + varintBytes(remaining) + remaining };
}
