import { type Message, MqError, waitForStatus } from '@mq/core';
import { mqttTestUrl, uniqueId } from '@mq/testkit';
import { afterEach } from 'vitest';
import {
  MqttConnection,
  type MqttConnectionOptions,
  MqttQueue,
  type MqttQueueOptions,
} from '../src/index.js';

const opened: Array<{ close(): Promise<void> }> = [];
const sessions = new Set<string>();

afterEach(async () => {
  const items = opened.splice(0).reverse();
  for (const item of items) await item.close();
  for (const clientId of sessions) await clearSession(clientId);
  sessions.clear();
});

/** A tracked, connected connection to the broker under test. */
export async function connection(options: MqttConnectionOptions = {}): Promise<MqttConnection> {
  const conn = new MqttConnection({ uri: mqttTestUrl(), reconnectMillis: 100, ...options });
  opened.push(conn);
  if (options.cleanSession === false) sessions.add(conn.clientId);
  conn.connect();
  await waitForStatus(conn, 'connected');
  return conn;
}

/** What a test receiver saw. */
export interface Inbox {
  /** Payload texts in arrival order. */
  texts: string[];
  /** The messages, to settle by hand. */
  messages: Message[];
  /** Errors the queue emitted. */
  errors: MqError[];
}

/** A tracked, connected receiver; `settle` says what the handler does with each message. */
export async function receiver(
  conn: MqttConnection,
  options: Omit<MqttQueueOptions, 'isRecv'>,
  settle: 'ack' | 'none' | ((message: Message, text: string) => Promise<void>) = 'ack',
): Promise<{ queue: MqttQueue; inbox: Inbox }> {
  const queue = new MqttQueue({ ...options, isRecv: true }, conn);
  opened.push(queue);
  const inbox: Inbox = { texts: [], messages: [], errors: [] };
  queue.on('error', (error) => inbox.errors.push(error));
  queue.setMsgHandler(async (_q, message) => {
    const text = message.payload.toString();
    inbox.texts.push(text);
    inbox.messages.push(message);
    if (settle === 'ack') await message.ack();
    else if (typeof settle === 'function') await settle(message, text);
  });
  queue.connect();
  await waitForStatus(queue, 'connected');
  return { queue, inbox };
}

/** A tracked, connected sender. */
export async function sender(
  conn: MqttConnection,
  options: Omit<MqttQueueOptions, 'isRecv'>,
): Promise<MqttQueue> {
  const queue = new MqttQueue({ ...options, isRecv: false }, conn);
  opened.push(queue);
  queue.connect();
  await waitForStatus(queue, 'connected');
  return queue;
}

/** Sends each text in order. */
export async function sendAll(queue: MqttQueue, texts: readonly string[]): Promise<void> {
  for (const text of texts) await queue.sendMsg(Buffer.from(text));
}

/**
 * Sends each text in order to a name nobody may receive: each resolves, or (MQTT 5) rejects with `NO_RECEIVER`
 * because the broker discarded it; any other failure throws.
 */
export async function sendUnreceived(queue: MqttQueue, texts: readonly string[]): Promise<void> {
  for (const text of texts) {
    await queue.sendMsg(Buffer.from(text)).catch((error: unknown) => {
      if (!MqError.hasCode(error, 'NO_RECEIVER')) throw error;
    });
  }
}

/** Polls `predicate` every 5 ms until it holds; throws after `timeoutMillis`. */
export async function until(predicate: () => boolean, what: string, timeoutMillis = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMillis} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A unique queue name. */
export function queueName(part = 'q'): string {
  return `mqtt-test.${uniqueId(part)}`;
}

/** Remembers a persistent session so that it is cleared after the test. */
export function trackSession(clientId: string): void {
  sessions.add(clientId);
}

/** Ends a persistent session: connects its client id with a clean session, then disconnects. */
export async function clearSession(clientId: string): Promise<void> {
  const conn = new MqttConnection({ uri: mqttTestUrl(), clientId, cleanSession: true });
  conn.connect();
  await waitForStatus(conn, 'connected');
  await conn.close();
}
