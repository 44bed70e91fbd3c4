import type { MqError } from '../api/errors.js';
import type { QueueHealth } from '../api/health.js';
import type { Status } from '../api/status.js';

/** The code and message of an error, as health reports carry it (never its cause). */
export function errorSummary(
  error: MqError | undefined,
): { readonly code: string; readonly message: string } | undefined {
  return error === undefined ? undefined : { code: error.code, message: error.message };
}

/** What `BaseQueue.health()` reads, with times as `Date.now()` values. */
export interface QueueHealthParts {
  readonly name: string;
  readonly isRecv: boolean;
  readonly status: Status;
  readonly statusSince: number;
  readonly attached: boolean | undefined;
  readonly lastDeliveryAt: number | undefined;
  readonly handlersRunning: number;
  readonly sendsInFlight: number;
  readonly sendsBuffered: number;
  readonly bufferedBytes: number;
  readonly requestsPending: number;
  readonly lastError: MqError | undefined;
}

/** A queue's {@link QueueHealth}, ages measured now. */
export function queueHealth(parts: QueueHealthParts): QueueHealth {
  const now = Date.now();
  return {
    name: parts.name,
    isRecv: parts.isRecv,
    status: parts.status,
    statusAgeMillis: Math.max(0, now - parts.statusSince),
    attached: parts.attached,
    lastDeliveryAgeMillis:
      parts.lastDeliveryAt === undefined ? undefined : Math.max(0, now - parts.lastDeliveryAt),
    handlersRunning: parts.handlersRunning,
    sendsInFlight: parts.sendsInFlight,
    sendsBuffered: parts.sendsBuffered,
    bufferedBytes: parts.bufferedBytes,
    requestsPending: parts.requestsPending,
    lastError: errorSummary(parts.lastError),
  };
}
