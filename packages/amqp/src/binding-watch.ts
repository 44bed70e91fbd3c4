import { type MqError, withDeadline } from '@mq/core/spi';
import type * as amqp from 'amqplib';
import { errors } from './errors.js';
import type { QueueChannel } from './queue-channel.js';
import { declare, type Topology } from './topology.js';

/**
 * How often a broadcast receiver checks that its fanout exchange is still there and its queue still bound to it.
 * RabbitMQ tells a consumer nothing when an operator (or a redeploy) deletes the exchange: the binding goes with
 * it, the receiver stays connected and gets nothing, for good.
 */
export const BINDING_CHECK_MILLIS = 5000;

/**
 * Keeps a broadcast receiver's queue bound to its fanout exchange: every `millis`, asks (on a channel of its own,
 * which a 404 may close) whether the exchange exists; declares it again when it does not, and binds the queue again
 * either way (binding is idempotent: that also restores a binding lost to an exchange a sender has declared again
 * since). A missing exchange is reported. Stops once the receiver's channel has closed.
 */
export function watchBinding(
  model: amqp.ChannelModel,
  channel: QueueChannel,
  topology: Topology,
  queue: string,
  report: (error: MqError) => void,
  millis = BINDING_CHECK_MILLIS,
): void {
  let checking = false;
  const timer: NodeJS.Timeout = setInterval(() => {
    if (channel.closed) {
      clearInterval(timer);
      return;
    }
    if (checking) return;
    checking = true;
    check(model, channel, topology, queue, report, millis)
      .catch(() => {
        // The receiver's channel is dying: its close handler reopens the queue, which declares and binds afresh.
      })
      .finally(() => {
        checking = false;
      });
  }, millis);
  // The check must not keep a process alive that has nothing else to do.
  timer.unref();
}

async function check(
  model: amqp.ChannelModel,
  channel: QueueChannel,
  topology: Topology,
  queue: string,
  report: (error: MqError) => void,
  millis: number,
): Promise<void> {
  const missing = await exchangeMissing(model, topology.name, millis);
  if (channel.closed) return;
  const raw = channel.raw;
  // As a sender declares it (a broadcast topology without a receiver declares the exchange only).
  if (missing) await withDeadline(declare(raw, { ...topology, isRecv: false }), millis, timedOut);
  await withDeadline(raw.bindQueue(queue, topology.name, ''), millis, timedOut);
  if (!missing) return;
  report(
    errors.error(
      'BROKER',
      `the fanout exchange '${topology.name}' of broadcast receiver '${topology.name}' was deleted on the broker, and this receiver's binding with it: declared it again and bound again; messages sent to it meanwhile did not reach this receiver`,
    ),
  );
}

/** True when the broker says exchange `name` does not exist (404 on a passive declare, on a channel of its own). */
async function exchangeMissing(model: amqp.ChannelModel, name: string, millis: number): Promise<boolean> {
  const side = await withDeadline(model.createChannel(), millis, timedOut, (late) => {
    late.on('error', () => {});
    late.close().catch(() => {});
  });
  let closedByBroker: Error | undefined;
  side.on('error', (error: Error) => {
    closedByBroker = error;
  });
  try {
    await withDeadline(side.checkExchange(name), millis, timedOut);
  } catch (error) {
    const why = closedByBroker ?? error;
    if (why instanceof Error && /\b404\b|NOT_FOUND/.test(why.message)) return true;
    throw error;
  }
  await withDeadline(side.close(), millis, timedOut).catch(() => {});
  return false;
}

function timedOut(): Error {
  return new Error('the broker did not answer in time');
}
