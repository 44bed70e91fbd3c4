import type { MqttClient } from 'mqtt';
import { errors } from './errors.js';

// Everything @mq/mqtt relies on that mqtt.js does not document, in one place. Each is checked against the
// pinned mqtt.js by test/mqttjs-internals.test.ts, which fails when an upgrade changes it.

/**
 * Handed to mqtt.js's handleMessage callback to skip its automatic PUBACK. mqtt.js only checks that it is
 * truthy and never surfaces it, so one shared instance saves capturing a stack trace per message.
 */
export const PUBACK_DEFERRED = new Error('PUBACK deferred until ack()');

/** The private mqtt.js method that writes one control packet; used to send deferred PUBACKs. */
type SendPacket = (
  packet: { cmd: 'puback'; messageId: number; reasonCode: number },
  cb?: (error?: Error) => void,
) => void;

/**
 * Writes the PUBACK of an incoming QoS 1 message whose automatic PUBACK was skipped (`handleMessage` called back
 * with an error): mqtt.js has no public deferred-PUBACK call, so this uses its internal packet writer.
 */
export function sendPuback(client: MqttClient, messageId: number): void {
  const send = (client as unknown as { _sendPacket?: SendPacket })._sendPacket;
  if (typeof send !== 'function') {
    throw errors.error('UNSUPPORTED', `this mqtt.js version cannot send a deferred PUBACK`);
  }
  // reasonCode 0 as mqtt.js's own PUBACK: MQTT 5 then omits it (4 bytes); left undefined, mqtt-packet writes a
  // reason code and an empty property length (6 bytes, two more writes).
  send.call(client, { cmd: 'puback', messageId, reasonCode: 0 });
}

/** Streams whose writes are held until the next `setImmediate` by {@link holdWritesUntilImmediate}. */
const HELD = new WeakSet<object>();

/**
 * Holds every write on `client`'s socket until the current turn of the event loop ends (`setImmediate`), so that
 * the PUBACKs of the handlers that ack in one turn (mqtt.js writes each packet on its own) leave in one write.
 * mqtt-packet corks around each packet; this outer cork spans them. A no-op when the stream cannot cork.
 */
export function holdWritesUntilImmediate(client: MqttClient): void {
  const stream = client.stream as unknown as { cork?: () => void; uncork?: () => void; destroyed?: boolean };
  if (typeof stream !== 'object' || stream === null || HELD.has(stream) || stream.destroyed) return;
  if (typeof stream.cork !== 'function' || typeof stream.uncork !== 'function') return;
  HELD.add(stream);
  stream.cork();
  setImmediate(() => {
    HELD.delete(stream);
    stream.uncork?.();
  });
}

/**
 * mqtt.js calls its `debug` logger 16 to 34 times per message (QoS 0 / QoS 1, sender and receiver), and each
 * call costs even while the logger is off (about 1 µs per message on the bench machine). When `DEBUG` does not
 * enable `mqttjs:client` as the link starts, it gets a no-op instead. With `DEBUG=mqttjs*` the log is kept, but
 * every packet it prints goes through {@link redactPacket}: mqtt.js logs the CONNECT packet whole, password
 * included.
 */
export function quietOrRedactedLog(client: MqttClient): void {
  const log = client.log as ((...args: unknown[]) => void) & { enabled?: unknown };
  // `debug` loggers have an `enabled` property, falsy when off (undefined when DEBUG is not set at all).
  if ('enabled' in log && !log.enabled) {
    client.log = () => {};
    return;
  }
  client.log = (...args: unknown[]) => log(...args.map(redactPacket));
}

/** A packet (or anything) with its `password` replaced by `'***'`, for logging; other values as they are. */
export function redactPacket(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || !('password' in value)) return value;
  if ((value as { password?: unknown }).password === undefined) return value;
  return { ...value, password: '***' };
}

/** The fields of mqtt.js's options that may hold a secret. */
const SECRET_FIELDS = ['password', 'key', 'passphrase', 'pfx'] as const;

/**
 * Drops the password and any TLS key material from a client's options once it has connected with them, and from
 * the copy Node's `tls.connect` keeps on the socket under `Symbol(connect-options)` (mqtt.js hands it its whole
 * options, password included). After the socket exists Node reads only host, port, servername and the checks from
 * that copy.
 */
export function forgetSecrets(client: MqttClient): void {
  scrub(client.options);
  const stream: unknown = client.stream;
  if (typeof stream !== 'object' || stream === null) return;
  const copy = Object.getOwnPropertySymbols(stream).find((key) => key.description === 'connect-options');
  if (copy !== undefined) scrub((stream as Record<symbol, unknown>)[copy]);
}

function scrub(options: unknown): void {
  if (typeof options !== 'object' || options === null) return;
  for (const key of SECRET_FIELDS) delete (options as Record<string, unknown>)[key];
}
