import { SEND_CHANNEL, type SendTrace, traced } from '../../api/diagnostics.js';
import type { MqError } from '../../api/errors.js';
import type { Queue } from '../../api/queue.js';
import type { SendOptions } from '../../api/send-options.js';
import type { Status } from '../../api/status.js';
import type { PackageErrors } from '../errors.js';
import type { SettleOnceMessage } from '../message.js';
import type { ResolvedQueueOptions } from '../options/queue-options.js';
import { checkSendOptions, hasMetadata } from '../options/send-options.js';
import { checkPayload } from './arguments.js';
import { InFlightSends } from './in-flight.js';
import type { QueueDriver } from './queue-driver.js';

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
  /** The queue's status. */
  status(): Status;
  /** The connection's broker address (password redacted), if it reports one. */
  address(): string | undefined;
  /** The driver of the current cycle. */
  driver(): QueueDriver | undefined;
}

/**
 * A queue's sends: the checks of `sendMsg`, the `mq:send` tracing, and every send and failure-policy copy in
 * flight, each bounded by `sendTimeoutMillis` and failed when its link goes.
 */
export class SendPath {
  readonly #parts: SendParts;
  readonly #sends: InFlightSends;

  /** No send in flight yet. */
  constructor(parts: SendParts) {
    this.#parts = parts;
    const { errors, options } = parts;
    this.#sends = new InFlightSends(options.sendTimeoutMillis, () =>
      errors.error(
        'TIMEOUT',
        `send on '${options.name}' not confirmed within ${options.sendTimeoutMillis} ms (sendTimeoutMillis): the broker may or may not have it`,
      ),
    );
  }

  /** Sends not settled yet. */
  get pending(): number {
    return this.#sends.size;
  }

  /** Resolves once every send in flight has settled. */
  settled(): Promise<void> {
    return this.#sends.allSettled();
  }

  /** Rejects every send in flight with `error`. */
  failAll(error: MqError): void {
    this.#sends.failAll(error);
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

  /** `sendMsg()`: checks, traces (while someone listens) and sends; never throws. */
  send(payload: Uint8Array, options: SendOptions | undefined): Promise<void> {
    const { errors, options: queueOptions, carriesMetadata } = this.#parts;
    const name = queueOptions.name;
    let checked: SendOptions | undefined;
    try {
      checkPayload(errors, payload);
      checked =
        options === undefined ? undefined : checkSendOptions(errors, options, this.#parts.reservedHeaders);
    } catch (error) {
      return Promise.reject(error);
    }
    if (!carriesMetadata && hasMetadata(checked)) {
      return Promise.reject(
        errors.error(
          'UNSUPPORTED',
          `queue '${name}' cannot carry message metadata (headers, ids, content type, expiration)${this.#parts.metadataHint}`,
        ),
      );
    }
    if (queueOptions.isRecv) {
      return Promise.reject(
        errors.error('SEND_ON_RECEIVER', `queue '${name}' is a receiver and cannot send`),
      );
    }
    const topicProblem = topicRefusal(queueOptions, checked, name);
    if (topicProblem !== undefined) return Promise.reject(errors.argument(topicProblem));
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
    const status = this.#parts.status();
    const driver = this.#parts.driver();
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
    const { errors, carriesMetadata } = this.#parts;
    const name = this.#parts.options.name;
    let checked: SendOptions | undefined;
    try {
      checkPayload(errors, payload);
      checked =
        options === undefined ? undefined : checkSendOptions(errors, options, this.#parts.reservedHeaders);
    } catch (error) {
      return Promise.reject(error);
    }
    if (!carriesMetadata && hasMetadata(checked)) {
      return Promise.reject(
        errors.error(
          'UNSUPPORTED',
          `queue '${name}' cannot carry message metadata (headers, ids, content type, expiration)${this.#parts.metadataHint}`,
        ),
      );
    }
    const status = this.#parts.status();
    const driver = this.#parts.driver();
    if (!driver || (status !== 'connected' && status !== 'connecting' && status !== 'closing')) {
      return Promise.reject(
        errors.error('NOT_CONNECTED', `queue '${name}' is ${status}, not connected: reply not sent`),
      );
    }
    const withId: SendOptions =
      checked?.correlationId !== undefined || correlationId === undefined
        ? (checked ?? {})
        : { ...checked, correlationId };
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
    const { errors } = this.#parts;
    const name = this.#parts.options.name;
    const status = this.#parts.status();
    const driver = this.#parts.driver();
    if (status !== 'connected' || !driver) {
      return Promise.reject(
        errors.error('NOT_CONNECTED', `queue '${name}' is ${status}, not connected: message not sent`),
      );
    }
    const send = this.#sends.begin();
    try {
      driver.publish(payload, send, checked);
    } catch (error) {
      send.reject(errors.wrap(error, 'BROKER', `send on '${name}' failed`));
    }
    // Settled inside publish() (a best-effort write the socket took at once): nothing for close() or the deadline.
    return this.#sends.watch(send);
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
