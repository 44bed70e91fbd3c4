import * as amqp from 'amqplib';
import { AMQP_URL } from './drivers/driver.js';

/** Deletes a durable bench queue from RabbitMQ, so runs leave nothing behind on a shared broker. */
export async function deleteQueue(name: string): Promise<void> {
  const connection = await amqp.connect(AMQP_URL);
  connection.on('error', () => {});
  try {
    const channel = await connection.createChannel();
    await channel.deleteQueue(name);
  } finally {
    await connection.close().catch(() => {});
  }
}
