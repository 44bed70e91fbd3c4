import { SEND_CHANNEL, type SendTrace, traced } from '../../api/diagnostics.js';
import type { MqError } from '../../api/errors.js';
import type { Queue } from '../../api/queue.js';
import type { SendOptions } from '../../api/send-options.js';
import type { Status } from '../../api/status.js';
import type { PackageErrors } from '../errors.js';
import type { SettleOnceMessage } from '../message.js';
import type { ResolvedQueueOptions } from '../options/queue-options.js';
import { checkSendOptions, hasMetadata, NO_SEND_OPTIONS, withSendOptions } from '../options/send-options.js';
import { checkPayload } from './arguments.js';
import { InFlightSends, type PendingSend } from './in-flight.js';
import type { QueueDriver, QueueLink } from './queue-driver.js';

/** What the send path needs from the rest of the queue. */
export interface SendParts {
  /** The backend's errors. */
  readonly errors: PackageErrors;
  /** The queue's validated options. */
  readonly options: ResolvedQueueOptions;
  /** The queue, for the `mq:send` context. */
  readonly queue: Queue;
  /** True when the queue carries `SendOptions` metadata; else a send with any is refused with `UNSUPPORTED`. */
  readonly carriesMetadata: boolean;
  /** Said after the `UNSUPPORTED` of a send with metadata, e.g. `: MQTT 3.1.1 has no message properties`. */
  readonly metadataHint: string;
  /** Header names (lower case) the backend keeps for itself. */
  readonly reservedHeaders: ReadonlySet<string>;
  /** The queue's status and driver. */
  readonly link: QueueLink;
  /** The connection's broker address (password redacted), if it reports one. */
  address(): string | undefined;
}

/** A send waiting for the queue's link: handed to the driver once the queue is `connected`. */
interface HeldSend {
  readonly send: PendingSend;
  readonly payload: Uint8Array;
  readonly options: SendOptions | undefined;
}

/**
 * A queue's sends: the checks of `sendMsg`, the `mq:send` tracing, the sends waiting for the link (within
 * `sendBufferMessages` and `sendBufferBytes`), and every send and failure-policy copy in flight, each bounded by
 * `sendTimeoutMillis` from the moment it was made and failed when its link goes.
 */
export class SendPath {
  readonly #parts: SendParts;
  readonly #sends: InFlightSends;
  /** Sends waiting for the link, oldest first; those settled meanwhile (timed out) are dropped from the head. */
  #held: HeldSend[] = [];
  #heldHead = 0;
  /** Payload bytes of the unsettled sends in `#held`, as counted when each was held. */
  #heldBytes = 0;

  /** No send in flight yet. */
  constructor(parts: SendParts) {
    this.#parts = parts;
    const { errors, options } = parts;
    this.#sends = new InFlightSends(options.sendTimeoutMillis, (held) =>
      held
        ? errors.error(
            'TIMEOUT',
            `queue '${options.name}' was not connected within ${options.sendTimeoutMillis} ms (sendTimeoutMillis): message not sent`,
          )
        : errors.error(
            'TIMEOUT',
            `send on '${options.name}' not confirmed within ${options.sendTimeoutMillis} ms (sendTimeoutMillis): the broker may or may not have it`,
          ),
    );
  }

  /** Sends waiting for the link (not settled yet). */
  get waiting(): number {
    this.#dropSettledHeld();
    return this.#held.length - this.#heldHead;
  }

  /** Payload bytes of the sends waiting for the link (not settled yet). */
  get waitingBytes(): number {
    this.#dropSettledHeld();
    return this.#heldBytes;
  }

  /** The queue is `connected`: every send waiting for the link goes to the driver now, oldest first. */
  linkUp(): void {
    const held = this.#held;
    const head = this.#heldHead;
    this.#held = [];
    this.#heldHead = 0;
    this.#heldBytes = 0;
    const { driver, status } = this.#parts.link;
    for (let i = head; i < held.length; i += 1) {
      const { send, payload, options } = held[i]!;
      if (send.settled) continue;
      this.#sends.release(send);
      if (driver) this.#publish(driver, payload, send, options);
      else send.reject(this.#notConnected(status));
    }
  }

  /** `close()` began: the sends still waiting for the link will never go; they reject with `CLOSED`. */
  closing(): void {
    if (this.waiting === 0) return;
    const error = this.#parts.errors.error(
      'CLOSED',
      `queue '${this.#parts.options.name}' was closed before it was connected: message not sent`,
    );
    const held = this.#held;
    this.#held = [];
    this.#heldHead = 0;
    this.#heldBytes = 0;
    for (const { send } of held) send.reject(error);
  }

  /** Sends not settled yet. */
  get pending(): number {
    return this.#sends.size;
  }

  /** Resolves once every send in flight has settled. */
  settled(): Promise<void> {
    return this.#sends.allSettled();
  }

  /** Rejects every send in flight with `error`; with `held`, also those waiting for the link. */
  failAll(error: MqError, held = false): void {
    this.#sends.failAll(error, held);
  }

  /** The connection dropped: every send in flight may or may not have reached the broker. */
  linkGone(): void {
    if (this.#sends.size === 0) return;
    this.#sends.failAll(
      this.#parts.errors.error(
        'CONNECTION_LOST',
        `the connection dropped before the broker took a message sent on '${this.#parts.options.name}': it may or may not have it`,
      ),
    );
  }

  /** Checks `SendOptions` as `sendMsg()` does (throws `INVALID_ARGUMENT` naming the field); a frozen copy. */
  checkOptions(options: SendOptions | undefined): SendOptions | undefined {
    return options === undefined
      ? undefined
      : checkSendOptions(this.#parts.errors, options, this.#parts.reservedHeaders);
  }

  /** The payload and options of a send or a reply, checked; throws the refusal (metadata where none is carried too). */
  #checked(payload: Uint8Array, options: SendOptions | undefined): SendOptions | undefined {
    const { errors, carriesMetadata } = this.#parts;
    checkPayload(errors, payload);
    const checked =
      options === undefined ? undefined : checkSendOptions(errors, options, this.#parts.reservedHeaders);
    if (!carriesMetadata && hasMetadata(checked)) {
      throw errors.error(
        'UNSUPPORTED',
        `queue '${this.#parts.options.name}' cannot carry message metadata (headers, ids, content type, expiration)${this.#parts.metadataHint}`,
      );
    }
    return checked;
  }

  /** `sendMsg()`: checks, traces (while someone listens) and sends; never throws. */
  send(payload: Uint8Array, options: SendOptions | undefined): Promise<void> {
    const { errors, options: queueOptions } = this.#parts;
    const name = queueOptions.name;
    let checked: SendOptions | undefined;
    try {
      checked = this.#checked(payload, options);
    } catch (error) {
      return Promise.reject(error);
    }
    if (queueOptions.isRecv) {
      return Promise.reject(
        errors.error('SEND_ON_RECEIVER', `queue '${name}' is a receiver and cannot send`),
      );
    }
    return this.sendChecked(payload, checked);
  }

  /** `sendMsg()` past its checks (`request()` checked the payload and options itself): traces and sends. */
  sendChecked(payload: Uint8Array, checked: SendOptions | undefined): Promise<void> {
    const { errors, options: queueOptions, carriesMetadata } = this.#parts;
    const name = queueOptions.name;
    if (queueOptions.routing === 'topic' || checked?.topic !== undefined) {
      const topicProblem = topicRefusal(queueOptions, checked, name);
      if (topicProblem !== undefined) return Promise.reject(errors.argument(topicProblem));
    }
    if (!traced(SEND_CHANNEL)) return this.#send(payload, checked);
    const context: SendTrace = {
      queue: this.#parts.queue,
      backend: errors.pkg,
      destination: name,
      broadcast: queueOptions.broadcast,
      reliable: queueOptions.reliable,
      payloadSize: payload.byteLength,
      address: this.#parts.address(),
      options: { ...checked, headers: { ...checked?.headers } },
      carriesMetadata,
    };
    // Headers the `start` subscribers added go out only where metadata does (and are checked like the app's).
    return SEND_CHANNEL.tracePromise(
      () => this.#send(payload, carriesMetadata ? this.#withInjected(checked, context) : checked),
      context,
    );
  }

  /**
   * For the failure policy: a tracked, deadline-bound copy through the driver's `republish()`, on a queue that is
   * connected, connecting (a backlog is delivered before `open()` returns) or closing.
   */
  republish(to: string | undefined, message: SettleOnceMessage, options: SendOptions): Promise<void> {
    const { errors } = this.#parts;
    const name = this.#parts.options.name;
    const { status, driver } = this.#parts.link;
    if (!driver || (status !== 'connected' && status !== 'connecting' && status !== 'closing')) {
      return Promise.reject(errors.error('NOT_CONNECTED', `queue '${name}' is ${status}: cannot republish`));
    }
    const send = this.#sends.begin();
    try {
      if (driver.republish) driver.republish(to, message, send, options);
      else send.reject(errors.error('UNSUPPORTED', `queue '${name}' cannot republish to ${to ?? 'itself'}`));
    } catch (error) {
      send.reject(errors.wrap(error, 'BROKER', `republishing on '${name}' failed`));
    }
    return this.#sends.watch(send);
  }

  /**
   * `message.reply()`: checks as `sendMsg()` does, then a tracked, deadline-bound send through the driver's
   * `reply()` to the address `to` the request named, on a receiver that is connected, connecting or closing (a
   * handler may answer while its receiver closes). `correlationId` is the request's, unless `options` gives one.
   */
  reply(
    to: string,
    correlationId: string | undefined,
    payload: Uint8Array,
    options: SendOptions | undefined,
  ): Promise<void> {
    const { errors } = this.#parts;
    const name = this.#parts.options.name;
    let checked: SendOptions | undefined;
    try {
      checked = this.#checked(payload, options);
    } catch (error) {
      return Promise.reject(error);
    }
    const { status, driver } = this.#parts.link;
    if (!driver || (status !== 'connected' && status !== 'connecting' && status !== 'closing')) {
      return Promise.reject(
        errors.error('NOT_CONNECTED', `queue '${name}' is ${status}, not connected: reply not sent`),
      );
    }
    const withId: SendOptions =
      checked?.correlationId !== undefined || correlationId === undefined
        ? (checked ?? NO_SEND_OPTIONS)
        : withSendOptions(checked, { correlationId });
    const send = this.#sends.begin();
    try {
      if (driver.reply) driver.reply(to, payload, send, withId);
      else send.reject(errors.error('UNSUPPORTED', `queue '${name}' cannot send replies`));
    } catch (error) {
      send.reject(errors.wrap(error, 'BROKER', `reply from '${name}' to '${to}' failed`));
    }
    return this.#sends.watch(send);
  }

  /**
   * The app's options plus the headers `start` subscribers added, when those pass the same checks; otherwise the
   * app's options alone: tracing never makes a send fail (a subscriber's header too many, say, is dropped).
   */
  #withInjected(checked: SendOptions | undefined, context: SendTrace): SendOptions | undefined {
    const injected = context.options.headers;
    if (Object.keys(injected).length === Object.keys(checked?.headers ?? {}).length) return checked;
    try {
      return checkSendOptions(
        this.#parts.errors,
        { ...checked, headers: { ...injected, ...checked?.headers } },
        this.#parts.reservedHeaders,
      );
    } catch {
      return checked;
    }
  }

  #send(payload: Uint8Array, checked: SendOptions | undefined): Promise<void> {
    const { status, driver } = this.#parts.link;
    if (status === 'connected' && driver) {
      const send = this.#sends.begin();
      this.#publish(driver, payload, send, checked);
      // Settled inside publish() (a best-effort write the socket took at once): nothing for close() or the deadline.
      return this.#sends.watch(send);
    }
    // A queue on its way up (just after connect(), or through a drop) keeps the send until it is connected, within
    // the buffer's bounds and the send's deadline; a closed or closing one never will be.
    if ((status !== 'connecting' && status !== 'disconnected') || !this.#hasRoom(payload.byteLength)) {
      return Promise.reject(this.#notConnected(status));
    }
    const send = this.#sends.begin();
    this.#held.push({ send, payload, options: checked });
    this.#heldBytes += payload.byteLength;
    return this.#sends.hold(send);
  }

  /** Hands a send to the driver; a driver that throws rejects it. */
  #publish(
    driver: QueueDriver,
    payload: Uint8Array,
    send: PendingSend,
    options: SendOptions | undefined,
  ): void {
    try {
      driver.publish(payload, send, options);
    } catch (error) {
      const { errors } = this.#parts;
      send.reject(errors.wrap(error, 'BROKER', `send on '${this.#parts.options.name}' failed`));
    }
  }

  /** True when one more send of `bytes` fits in the buffer of sends waiting for the link. */
  #hasRoom(bytes: number): boolean {
    const { sendBufferMessages, sendBufferBytes } = this.#parts.options;
    return this.waiting < sendBufferMessages && this.#heldBytes + bytes <= sendBufferBytes;
  }

  /** Forgets the oldest held sends that settled meanwhile (they time out oldest first), freeing their room. */
  #dropSettledHeld(): void {
    const held = this.#held;
    while (this.#heldHead < held.length && held[this.#heldHead]!.send.settled) {
      this.#heldBytes -= held[this.#heldHead]!.payload.byteLength;
      this.#heldHead += 1;
    }
    if (this.#heldHead === held.length) {
      this.#held = [];
      this.#heldHead = 0;
      this.#heldBytes = 0;
    } else if (this.#heldHead > 1024 && this.#heldHead * 2 > held.length) {
      this.#held = held.slice(this.#heldHead);
      this.#heldHead = 0;
    }
  }

  #notConnected(status: Status): MqError {
    const { errors, options } = this.#parts;
    const name = options.name;
    if (options.sendBufferMessages === 0 && (status === 'connecting' || status === 'disconnected')) {
      return errors.error(
        'NOT_CONNECTED',
        `queue '${name}' is ${status}, not connected (sendBufferMessages 0: no send waits for the link): message not sent`,
      );
    }
    if (status === 'connecting' || status === 'disconnected') {
      return errors.error(
        'NOT_CONNECTED',
        `queue '${name}' is ${status} and ${this.waiting} sends (at most sendBufferMessages ${options.sendBufferMessages}, sendBufferBytes ${options.sendBufferBytes}) already wait for it: message not sent`,
      );
    }
    return errors.error('NOT_CONNECTED', `queue '${name}' is ${status}, not connected: message not sent`);
  }
}

/** Why a send's `topic` does not fit its queue's routing, or `undefined` when it does. */
function topicRefusal(
  options: ResolvedQueueOptions,
  checked: SendOptions | undefined,
  name: string,
): string | undefined {
  const topic = checked?.topic;
  if (options.routing === 'topic') {
    return topic === undefined
      ? `topic is required on '${name}', a topic sender (routing: 'topic'): sendMsg(payload, { topic: 'eu.created' })`
      : undefined;
  }
  return topic === undefined
    ? undefined
    : `topic is for topic senders (routing: 'topic'), got ${JSON.stringify(topic)} on '${name}', a queue with routing 'queue'`;
}
