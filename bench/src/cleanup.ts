import * as amqp from 'amqplib';
import { AMQP_URL } from './drivers/driver.js';

/** Deletes a durable bench queue from RabbitMQ, so runs leave nothing behind on a shared broker. */
export async function deleteQueue(name: string): Promise<void> {
  await onChannel((channel) => channel.deleteQueue(name));
}

/**
 * Deletes a broadcast scenario's fanout exchange: it is not durable, but without this it stays until RabbitMQ
 * restarts (every client of a broadcast scenario declares one of its own).
 */
export async function deleteExchange(name: string): Promise<void> {
  await onChannel((channel) => channel.deleteExchange(name));
}

async function onChannel(work: (channel: amqp.Channel) => Promise<unknown>): Promise<void> {
  const connection = await amqp.connect(AMQP_URL);
  connection.on('error', () => {});
  try {
    await work(await connection.createChannel());
  } finally {
    await connection.close().catch(() => {});
  }
}
