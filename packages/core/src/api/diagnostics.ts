import { channel, type TracingChannel, tracingChannel } from 'node:diagnostics_channel';
import type { MqError } from './errors.js';
import type { Message } from './message.js';
import type { Queue } from './queue.js';
import type { SendOptions } from './send-options.js';
import type { Status } from './status.js';

/**
 * What `mq:send` carries for one `sendMsg()`. A `start` subscriber may add headers to `options.headers` (trace
 * context, say): they are sent when the queue carries metadata (`carriesMetadata`), and dropped otherwise.
 */
export interface SendTrace {
  /** The sending queue. */
  readonly queue: Queue;
  /** The backend package, e.g. `mq/amqp`. */
  readonly backend: string;
  /** Where the message goes: the queue name (an AMQP queue or exchange, an MQTT topic). */
  readonly destination: string;
  /** Unicast or broadcast. */
  readonly broadcast: boolean;
  /** Reliable (confirmed) or best effort. */
  readonly reliable: boolean;
  /** Payload bytes. */
  readonly payloadSize: number;
  /** The connection's current broker address (password redacted), when the backend reports one. */
  readonly address: string | undefined;
  /** The send's options; `headers` is a fresh object subscribers may add to. */
  readonly options: SendOptions & { headers: Record<string, string> };
  /** True when the message carries `options` (else only the payload goes out). */
  readonly carriesMetadata: boolean;
  /** Set by the tracing channel when the send rejects. */
  error?: unknown;
}

/** What `mq:process` carries for one handler run. */
export interface ProcessTrace {
  /** The receiving queue. */
  readonly queue: Queue;
  /** The backend package. */
  readonly backend: string;
  /** The queue name the message came from. */
  readonly destination: string;
  /** Unicast or broadcast. */
  readonly broadcast: boolean;
  /** The message handed to the handler (its headers carry what the sender's subscribers added). */
  readonly message: Message;
  /** The connection's current broker address (password redacted), when the backend reports one. */
  readonly address: string | undefined;
  /** Payload bytes. */
  readonly payloadSize: number;
  /**
   * A `start` subscriber may set this to run the handler inside something of its own (an OpenTelemetry context,
   * so that the spans the handler starts are children of the process span); it must call `run` once and return
   * what it returns.
   */
  around?: (run: () => unknown) => unknown;
  /** Set by the tracing channel when the handler throws or rejects. */
  error?: unknown;
}

/** What `mq:status` carries: one status change of a connection or a queue. */
export interface StatusEvent {
  /** A connection or a queue. */
  readonly kind: 'connection' | 'queue';
  /** The object whose status changed. */
  readonly source: object;
  /** The queue name, for a queue. */
  readonly name: string | undefined;
  /** The new status. */
  readonly status: Status;
}

/** What `mq:error` carries: one `error` event of a connection or a queue, listened to or not. */
export interface ErrorEvent {
  /** A connection or a queue. */
  readonly kind: 'connection' | 'queue';
  /** The object that reported it. */
  readonly source: object;
  /** The queue name, for a queue. */
  readonly name: string | undefined;
  /** The error. */
  readonly error: MqError;
}

/** `node:diagnostics_channel` tracing channel of every `sendMsg()` (start, end, asyncStart, asyncEnd, error). */
export const SEND_CHANNEL: TracingChannel<SendTrace> = tracingChannel('mq:send');
/** Tracing channel of every handler run on a received message. */
export const PROCESS_CHANNEL: TracingChannel<ProcessTrace> = tracingChannel('mq:process');
/** Channel of every status change of a connection or queue. */
export const STATUS_CHANNEL = channel('mq:status');
/** Channel of every error a connection or queue reports. */
export const ERROR_CHANNEL = channel('mq:error');

/** True when anyone listens on `traced`: checked first, so that nothing is built or paid for otherwise. */
export function traced(target: TracingChannel<object>): boolean {
  const all = (target as { hasSubscribers?: boolean }).hasSubscribers;
  if (typeof all === 'boolean') return all;
  // Node before 20.13 has no TracingChannel.hasSubscribers: ask its channels.
  return (
    target.start.hasSubscribers ||
    target.end.hasSubscribers ||
    target.asyncStart.hasSubscribers ||
    target.asyncEnd.hasSubscribers ||
    target.error.hasSubscribers
  );
}
