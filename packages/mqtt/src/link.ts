import { Socket } from 'node:net';
import {
  classifyLinkError,
  MqError,
  type PendingSend,
  settleWithin,
  type TlsConnectOptions,
  withDeadline,
} from '@mq/core/spi';
import {
  type IClientOptions,
  type IClientPublishOptions,
  type IPublishPacket,
  type MqttClient,
  connect as mqttConnect,
} from 'mqtt';
import { errors } from './errors.js';
import {
  forgetSecrets,
  holdWritesUntilImmediate,
  PUBACK_DEFERRED,
  quietOrRedactedLog,
  sendPuback,
} from './mqttjs-internals.js';
import { connectionSecrets, type MqttAddress, type ResolvedConnectionOptions } from './options.js';
import { MAX_REMAINING_LENGTH, publishPacketSize } from './properties.js';
import type { Filters } from './topics.js';

/** Bytes below MQTT's ceiling under which a payload cannot make its PUBLISH too large (see `#tooLarge`). */
const UNCHECKED_MARGIN = 1_048_576;

/** MQTT 5 DISCONNECT reason code: another client connected with the same client id. */
const SESSION_TAKEN_OVER = 142;
/**
 * MQTT 5 PUBACK reason code 0x10: the broker accepted the message but no subscription matched, so it discarded
 * it. mqtt.js treats it as success; for a unicast send it means nobody got it.
 */
const NO_MATCHING_SUBSCRIBERS = 0x10;

/** What a link reports to its owner. */
export interface LinkEvents {
  /**
   * An incoming PUBLISH. Return true to take over its PUBACK (QoS 1: the owner calls `puback()` later); false
   * lets the link acknowledge it at once.
   */
  onMessage(link: MqttLink, packet: IPublishPacket): boolean;
  /** The open link dropped by itself (not through `close()`); called once. */
  onLost(link: MqttLink, error: MqError, takenOver: boolean): void;
  /** A non-fatal error while the link stays up. */
  onError(error: MqError): void;
  /** Runs `resume` once the next incoming packet may be handled (at once unless a receiver is at its prefetch). */
  whenReadable?(resume: () => void): void;
}

/** Publish options, shared: mqtt.js copies them (`{ ...defaults, ...opts }`) and never keeps or changes them. */
const QOS_0 = Object.freeze({ qos: 0 as const });
const QOS_1 = Object.freeze({ qos: 1 as const });

/** A failed publish as an `MqError`: a numeric code is the broker's refusal (MQTT 5 PUBACK reason code). */
function sendError(topic: string, error: Error): MqError {
  return typeof (error as { code?: unknown }).code === 'number'
    ? errors.wrap(error, 'REJECTED', `the broker refused a message on '${topic}'`)
    : errors.wrap(error, 'CONNECTION_LOST', `send on '${topic}' failed`);
}

/**
 * One mqtt.js client for the lifetime of one network link. mqtt.js's own reconnect is off: the connection
 * state machine makes a new link after each loss, so a stale packet id can never be acked on a new link.
 */
export class MqttLink {
  /** The mqtt.js client. */
  readonly client: MqttClient;
  readonly #options: ResolvedConnectionOptions;
  /** The broker this link goes to. */
  readonly #address: MqttAddress;
  readonly #events: LinkEvents;
  /** `connecting` until the CONNACK, `open` while usable, `ended` once closed or lost (for good). */
  #state: 'connecting' | 'open' | 'ended' = 'connecting';
  #takenOver = false;
  #lastError: Error | undefined;
  /** What `client.connect()` threw, if it did. */
  #startFailure: Error | undefined;
  /** Why the link ended; set exactly when `#state` becomes `ended`. */
  #failure: MqError | undefined;
  /**
   * Rejecters of the operations waiting on this link, rejected when it ends. A Set, not a race against one
   * long-lived promise: such a race leaves a reaction on that promise per operation until the link dies.
   */
  readonly #waiting = new Set<(error: MqError) => void>();
  /** Packet ids of QoS 1 publishes the broker PUBACKed with "no matching subscribers", until their callback runs. */
  readonly #unmatched = new Set<number>();
  /**
   * mqtt.js drops the PUBACK's reason code before the publish callback runs, and emits each packet first: listened
   * to from the first send that needs a receiver on, so that a link that only receives pays nothing per packet.
   */
  #watchesPubacks = false;

  /** Starts connecting at once to `options.addresses[address]`; await {@link MqttLink.opened}. */
  constructor(options: ResolvedConnectionOptions, address: number, events: LinkEvents) {
    this.#options = options;
    this.#address = options.addresses[address] as MqttAddress;
    this.#events = events;
    // manualConnect: the logger must be replaced before mqtt.js writes (and logs) the CONNECT packet.
    this.client = mqttConnect(this.#address.url, { ...clientOptions(options, address), manualConnect: true });
    quietOrRedactedLog(this.client);
    this.client.handleMessage = (packet, callback) => {
      let deferred = false;
      try {
        deferred = this.#events.onMessage(this, packet) && packet.qos > 0;
      } catch (error) {
        this.#events.onError(errors.wrap(error, 'BROKER', `dispatching a message failed`));
      }
      // mqtt.js sends the PUBACK only when this callback gets no error; an error just skips it. It handles the
      // next packet (and reads the socket again) only once this is called: that is how a receiver at its prefetch
      // slows the reads, never the acks.
      const whenReadable = this.#readsHeld ? this.#events.whenReadable : undefined;
      if (whenReadable) whenReadable(() => callback(deferred ? PUBACK_DEFERRED : undefined));
      else callback(deferred ? PUBACK_DEFERRED : undefined);
    };
    this.client.on('error', (error) => {
      this.#lastError = error;
      // A socket error is followed by 'close', which reports the loss; report only errors the link survives.
      setImmediate(() => {
        if (this.#state === 'open')
          this.#events.onError(errors.wrap(error, 'BROKER', `${this.#address.safeUri}`));
      });
    });
    this.client.on('disconnect', (packet) => {
      this.#disconnectReason = packet.reasonCode ?? 0;
      if (packet.reasonCode === SESSION_TAKEN_OVER) this.#takenOver = true;
      this.#lastError = new Error(
        `broker sent DISCONNECT, reason ${packet.reasonCode ?? 0} ${packet.properties?.reasonString ?? ''}`.trim(),
      );
    });
    this.client.on('close', () => this.#onClose());
    try {
      this.client.connect();
    } catch (error) {
      // Node's tls.connect throws before any socket exists (a key OpenSSL cannot use, say): `opened()` reports
      // it as any failed attempt, classified and naming the address.
      this.#startFailure = error instanceof Error ? error : new Error(String(error));
    }
    // The CONNECT (and the TLS socket, which keeps a copy of its options) are built: nothing needs the password
    // any more, and what holds the client (a debugger, util.inspect, a heap walk) must not show it.
    forgetSecrets(this.client);
    // Small messages must not wait for Nagle's algorithm (benchmarks and request/reply latency).
    if (this.client.stream instanceof Socket) this.client.stream.setNoDelay(true);
  }

  /** True while the link is open and not closing. */
  get alive(): boolean {
    return this.#state === 'open' && this.client.connected;
  }

  /** The URI of the broker this link goes to, without credentials. */
  get url(): string {
    return this.#address.url;
  }

  /** True when the broker closed the link with an MQTT 5 DISCONNECT saying why (other than a takeover). */
  get disconnectedWithReason(): boolean {
    return this.#disconnectReason !== undefined && this.#disconnectReason !== SESSION_TAKEN_OVER;
  }

  #disconnectReason: number | undefined;

  /** True when the broker said the session was resumed (persistent session). */
  get sessionPresent(): boolean {
    return this.#sessionPresent;
  }

  #sessionPresent = false;
  /** The broker's CONNACK `maximumPacketSize` (MQTT 5), if it sent one. */
  #maximumPacketSize: number | undefined;

  /** Resolves once the broker accepted the connection; rejects on failure or after the connect timeout. */
  opened(): Promise<void> {
    const { connectTimeoutMillis } = this.#options;
    const { safeUri } = this.#address;
    if (this.#startFailure) {
      this.#end(connectError(this.#startFailure, safeUri, this.#address.url));
      this.destroy();
      return Promise.reject(this.#failure);
    }
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        fail(
          errors.error(
            'UNREACHABLE',
            `connecting to ${safeUri} took over ${connectTimeoutMillis} ms (connectTimeoutMillis)`,
          ),
        );
      }, connectTimeoutMillis);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.client.off('connect', onConnect);
        this.client.off('close', onClose);
        this.client.off('error', onError);
      };
      const fail = (error: MqError): void => {
        cleanup();
        this.destroy();
        reject(error);
      };
      const onConnect = (connack: {
        sessionPresent: boolean;
        properties?: { maximumPacketSize?: number };
      }): void => {
        cleanup();
        this.#sessionPresent = connack.sessionPresent;
        this.#maximumPacketSize = connack.properties?.maximumPacketSize;
        // A link closed while it was connecting stays ended.
        if (this.#state === 'connecting') this.#state = 'open';
        resolve();
      };
      const onClose = (): void => {
        fail(connectError(this.#lastError ?? new Error('connection closed'), safeUri, this.#address.url));
      };
      const onError = (error: Error): void => {
        fail(connectError(error, safeUri, this.#address.url));
      };
      this.client.on('connect', onConnect);
      this.client.on('close', onClose);
      this.client.on('error', onError);
    });
  }

  /**
   * Settles like `operation`, or rejects with `CONNECTION_LOST` (`CLOSED`) as soon as this link drops (closes),
   * or with `TIMEOUT` after `connectTimeoutMillis` without an answer.
   */
  guard<T>(operation: Promise<T>): Promise<T> {
    let stop = (): void => {};
    const untilLinkEnds = new Promise<T>((resolve, reject) => {
      stop = this.#wait(reject);
      operation.then(resolve, reject);
    });
    // A broker that goes silent never answers and never closes the socket: bound the wait.
    const { connectTimeoutMillis } = this.#options;
    const { safeUri } = this.#address;
    return withDeadline(untilLinkEnds, connectTimeoutMillis, () =>
      errors.error(
        'TIMEOUT',
        `no answer from ${safeUri} within ${connectTimeoutMillis} ms (connectTimeoutMillis)`,
      ),
    ).finally(stop);
  }

  /**
   * Subscribes to `filter` at `qos`; resolves once the broker granted at least that QoS. Rejects with `BROKER`
   * when it refused, and as {@link MqttLink.guard} does when the link ends or the broker stays silent.
   */
  async subscribe(filter: Filters, qos: 0 | 1): Promise<void> {
    let granted: number | undefined;
    try {
      const grants = await this.guard(
        this.client.subscribeAsync(typeof filter === 'string' ? filter : [...filter], { qos }),
      );
      // Every filter of a topic receiver must be granted: a refusal (0x80 and up) wins, else the lowest QoS.
      const codes = grants.map((grant) => grant.qos);
      granted = codes.find((code) => code >= 0x80) ?? (codes.length === 0 ? undefined : Math.min(...codes));
    } catch (error) {
      throw errors.wrap(error, 'BROKER', `subscribing to '${filter}' failed`);
    }
    if (granted === undefined || granted >= 0x80 || granted < qos) {
      throw errors.error(
        'BROKER',
        `the broker refused the subscription to '${filter}' at QoS ${qos} (granted ${String(granted)})`,
      );
    }
  }

  /**
   * Unsubscribes from `filter`; resolves on the broker's UNSUBACK, which comes after every PUBLISH it sent
   * before. Rejects with `CONNECTION_LOST` or `CLOSED` when the link ends first (see {@link MqttLink.lostWith}),
   * `TIMEOUT` when the broker stays silent, `BROKER` when the client library fails it.
   */
  async unsubscribe(filter: Filters): Promise<void> {
    try {
      await this.guard(this.client.unsubscribeAsync(typeof filter === 'string' ? filter : [...filter]));
    } catch (error) {
      throw errors.wrap(error, 'BROKER', `unsubscribing from '${filter}' failed`);
    }
  }

  /**
   * Publishes one message; `send` resolves once written (QoS 0) or on its PUBACK (QoS 1), and rejects with
   * `REJECTED` when the broker refused it (an MQTT 5 reason code) or `CONNECTION_LOST` when mqtt.js failed it. With
   * `needsReceiver` (a reliable unicast send) an MQTT 5 PUBACK saying "no matching subscribers" rejects it with
   * `NO_RECEIVER`: the broker discarded it. A link that has ended rejects it at once; one that drops later leaves
   * it to the queue, which rejects every pending send when its connection drops.
   */
  publish(
    topic: string,
    body: Buffer,
    qos: 0 | 1,
    send: PendingSend,
    options?: IClientPublishOptions,
    needsReceiver = false,
  ): void {
    if (this.#failure) {
      send.reject(this.#failure);
      return;
    }
    // Without a broker limit, only a payload near MQTT's ceiling can pass it: what else a PUBLISH carries (a topic
    // of at most 64 KiB, headers of at most 16 KiB, ids of at most 255 bytes) is far under the margin.
    if (this.#maximumPacketSize !== undefined || body.byteLength >= MAX_REMAINING_LENGTH - UNCHECKED_MARGIN) {
      const tooLarge = this.#tooLarge(topic, body.byteLength, qos, options);
      if (tooLarge) {
        send.reject(tooLarge);
        return;
      }
    }
    if (needsReceiver && !this.#watchesPubacks) {
      this.#watchesPubacks = true;
      this.client.on('packetreceive', (packet) => {
        if (packet.cmd === 'puback' && packet.reasonCode === NO_MATCHING_SUBSCRIBERS)
          this.#unmatched.add(packet.messageId as number);
      });
    }
    this.client.publish(topic, body, options ?? (qos === 0 ? QOS_0 : QOS_1), (error, packet) => {
      const unmatched =
        this.#unmatched.size > 0 &&
        packet?.messageId !== undefined &&
        this.#unmatched.delete(packet.messageId);
      if (error) send.reject(sendError(topic, error));
      else if (unmatched && needsReceiver) send.reject(noReceiver(topic));
      else send.resolve();
    });
  }

  /**
   * `INVALID_ARGUMENT` when the PUBLISH of a message cannot go out: over MQTT's ceiling (a remaining length of
   * 268,435,455 bytes), which mqtt.js cannot encode and which would drop the link, or over the broker's CONNACK
   * `maximumPacketSize`, which the broker answers by closing the connection. Checked before anything is written.
   */
  #tooLarge(
    topic: string,
    payloadBytes: number,
    qos: 0 | 1,
    options: IClientPublishOptions | undefined,
  ): MqError | undefined {
    const limit = this.#maximumPacketSize;
    const size = publishPacketSize(topic, payloadBytes, qos, this.#options.protocolVersion === 5, options);
    if (size.remaining > MAX_REMAINING_LENGTH) {
      return errors.error(
        'INVALID_ARGUMENT',
        `payload of ${payloadBytes} bytes on '${topic}' is too large for MQTT: a packet carries at most ${MAX_REMAINING_LENGTH} bytes after its header (this one ${size.remaining}); nothing was sent`,
      );
    }
    if (limit !== undefined && size.total > limit) {
      return errors.error(
        'INVALID_ARGUMENT',
        `payload of ${payloadBytes} bytes on '${topic}' is too large for ${this.#address.safeUri}: its packet would be ${size.total} bytes, over the broker's maximumPacketSize of ${limit} (CONNACK); nothing was sent`,
      );
    }
    return undefined;
  }

  /** True when `error` says the link ended (lost or closed), not that the broker refused or stayed silent. */
  static lostWith(error: unknown): boolean {
    return MqError.hasCode(error, 'CONNECTION_LOST') || MqError.hasCode(error, 'CLOSED');
  }

  /**
   * Reads are held (a receiver is at its prefetch) or go on again. While they are held no PINGRESP is read, so
   * mqtt.js would end the link after 1.5 × keepalive and the broker would end it for want of PINGREQs: this link
   * keeps sending PINGREQs every half keepalive and keeps mqtt.js's keepalive deadline ahead, so that a handler
   * slower than the keepalive costs no reconnect (and no redelivery). A broker that dies meanwhile is noticed when
   * the socket fails or the reads go on.
   */
  holdReads(held: boolean): void {
    this.#readsHeld = held;
    clearInterval(this.#pings);
    this.#pings = undefined;
    const { keepaliveSeconds } = this.#options;
    if (!held || keepaliveSeconds === 0 || this.#state !== 'open') return;
    this.#pings = setInterval(
      () => {
        if (!this.alive) {
          clearInterval(this.#pings);
          return;
        }
        this.client.sendPing();
        this.client.reschedulePing(true);
      },
      (keepaliveSeconds * 1000) / 2,
    );
    this.#pings.unref();
  }

  #pings: NodeJS.Timeout | undefined;
  /** True while a receiver holds its prefetch (see {@link MqttLink.holdReads}): a packet's end waits for `whenReadable`. */
  #readsHeld = false;

  /** Sends the PUBACK of an incoming QoS 1 message; false when the link is no longer alive. */
  puback(messageId: number): boolean {
    if (!this.alive) return false;
    // PUBACKs of one turn (a batch of handlers acking) share one write; none waits past the turn.
    holdWritesUntilImmediate(this.client);
    sendPuback(this.client, messageId);
    return true;
  }

  /** Closes the link: a DISCONNECT when it is up (bounded by the connect timeout), else the socket. */
  async close(): Promise<void> {
    if (this.#state === 'ended') return;
    this.#end(errors.error('CLOSED', `the link to ${this.#address.safeUri} was closed`));
    if (!this.client.connected) {
      this.destroy();
      return;
    }
    await settleWithin(this.client.endAsync(false), this.#options.connectTimeoutMillis);
    this.destroy();
  }

  /** Drops the socket at once, as a network failure would. */
  destroy(): void {
    // A client whose connect() threw has no stream, and mqtt.js's end() needs one.
    if (this.client.stream && !this.client.disconnected && !this.client.disconnecting) this.client.end(true);
    this.client.stream?.destroy();
  }

  #onClose(): void {
    if (this.#state === 'ended') return;
    const { clientId } = this.#options;
    const { safeUri } = this.#address;
    const detail = this.#takenOver
      ? `another client connected with clientId '${clientId}' and took the session over`
      : (this.#lastError?.message ?? 'the broker or the network closed it');
    const error = errors.error('CONNECTION_LOST', `connection to ${safeUri} lost: ${detail}`, {
      cause: this.#lastError,
    });
    const wasOpen = this.#state === 'open';
    this.#end(error);
    this.destroy();
    if (wasOpen) this.#events.onLost(this, error, this.#takenOver);
  }

  #end(error: MqError): void {
    this.#state = 'ended';
    clearInterval(this.#pings);
    this.#pings = undefined;
    this.#failure ??= error;
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const reject of waiting) reject(this.#failure);
  }

  /** Registers `reject` to run when the link ends (at once if it has); returns the function that forgets it. */
  #wait(reject: (error: MqError) => void): () => void {
    if (this.#failure) {
      reject(this.#failure);
      return () => {};
    }
    this.#waiting.add(reject);
    return () => {
      this.#waiting.delete(reject);
    };
  }
}

/** A reliable unicast send the broker discarded because no receiver was subscribed (PUBACK reason 0x10). */
function noReceiver(topic: string): MqError {
  return errors.error(
    'NO_RECEIVER',
    `the broker discarded a message on '${topic}': no receiver was subscribed (MQTT 5 PUBACK "no matching subscribers"); nothing was delivered, send it again once a receiver is there`,
  );
}

/** CONNACK reason codes of refused credentials: 4 and 5 in MQTT 3.1.1, 134 and 135 in MQTT 5. */
const AUTH_REFUSED = new Set([4, 5, 134, 135]);

/**
 * A failed connection attempt as the error a user can act on: `UNREACHABLE`, `TLS_FAILED`, `AUTH_FAILED` (a
 * CONNACK refusing the credentials), `PROTOCOL_MISMATCH` (what answered is not MQTT: mqtt.js could not parse it),
 * else `BROKER` (another CONNACK refusal, say); the original is its `cause`.
 */
function connectError(error: Error, safeUri: string, url: string): MqError {
  const fail = (code: ConstructorParameters<typeof MqError>[0], why: string): MqError =>
    errors.error(code, `cannot connect to ${safeUri}: ${why}`, { cause: error });
  const tls = url.startsWith('mqtts:') || url.startsWith('wss:');
  const network = classifyLinkError(error, tls);
  if (network === 'TLS_FAILED') {
    return fail(
      'TLS_FAILED',
      `TLS failed (${error.message.split('\n')[0]}); check tls.ca, the host name, and that the port is a TLS one`,
    );
  }
  if (network) return fail(network, error.message);
  const reason = (error as { code?: unknown }).code;
  if (typeof reason === 'number' && AUTH_REFUSED.has(reason)) {
    return fail('AUTH_FAILED', `the broker refused the credentials (${error.message}, reason ${reason})`);
  }
  if (/^Invalid |^Packet too large|unknown packet|not supported/i.test(error.message)) {
    return fail(
      'PROTOCOL_MISMATCH',
      `what answered does not speak MQTT (${error.message}): is this an MQTT port? An AMQP broker (5672) answers so`,
    );
  }
  return fail('BROKER', error.message);
}

function clientOptions(options: ResolvedConnectionOptions, address: number): IClientOptions {
  const v5 = options.protocolVersion === 5;
  const { passwords, tls } = connectionSecrets(options);
  const password = passwords[address];
  const { username, url } = options.addresses[address] as MqttAddress;
  return {
    clientId: options.clientId,
    clean: options.cleanSession,
    protocolVersion: options.protocolVersion,
    keepalive: options.keepaliveSeconds,
    connectTimeout: options.connectTimeoutMillis,
    reconnectPeriod: 0,
    resubscribe: false,
    queueQoSZero: false,
    ...(username === undefined ? {} : { username }),
    // A Buffer, not a string: mqtt-packet logs every string it writes under DEBUG=mqtt-packet:*, never a Buffer.
    ...(password === undefined ? {} : { password: Buffer.from(password, 'utf8') }),
    ...tlsClientOptions(tls, url),
    ...(v5
      ? {
          properties: {
            sessionExpiryInterval: options.sessionExpirySeconds,
            ...(options.receiveMaximum === undefined ? {} : { receiveMaximum: options.receiveMaximum }),
          },
        }
      : {}),
  };
}

/**
 * The secure context, `servername` and `rejectUnauthorized` where mqtt.js passes them on: to `tls.connect` for
 * `mqtts:`, and to the WebSocket (`wsOptions`) for `wss:`, where mqtt.js would copy only key, passphrase and CA
 * fields, not a secure context.
 */
function tlsClientOptions(tls: TlsConnectOptions | undefined, url: string): IClientOptions {
  if (tls === undefined) return {};
  return url.startsWith('wss:') ? { wsOptions: { ...tls } } : { ...tls };
}
