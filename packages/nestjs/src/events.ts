import type { MqError, Status } from '@mq/core';
import type { Logger } from '@nestjs/common';

/** The events `MqServer.on()` and `MqClient.on()` take: their connection's and queues' status and errors. */
export type MqTransportEvents = {
  /** The connection's status changed. */
  status: (status: Status) => void;
  /** The connection or a queue reported an error (a failed handler, a dead letter, a lost link, ...). */
  error: (error: MqError) => void;
};

/** Logs an error event at the level it deserves: retried and reconnecting ones warn, the others are errors. */
export function logMqError(logger: Logger, where: string, error: MqError): void {
  const text = `${where}: ${error.code} ${error.message}`;
  if (error.code === 'HANDLER_FAILED' || /reconnecting in/.test(error.message)) logger.warn(text);
  else logger.error(text);
}
