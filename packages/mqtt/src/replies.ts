import { createHash } from 'node:crypto';
import type { MqError } from '@mq/core/spi';
import type { IPublishPacket } from 'mqtt';
import { errors } from './errors.js';
import { MqttLink } from './link.js';

/** What a requesting sender offers the connection's replies: it takes the replies to its topic. */
export interface ReplySink {
  /** One reply that came to this sender's response topic. */
  takeReply(packet: IPublishPacket): void;
}

/**
 * The replies of one connection's requesting senders: one subscription, `mq/reply/<client>/+`, made on the first
 * request and again on every link after that (a clean session forgets it), and a response topic under it per
 * sender. `<client>` is a hash of the client id (which may hold characters a topic level cannot): one prefix per
 * client, also across restarts, so a persistent session keeps one reply subscription, not one per process. No mq
 * queue name has a `/`, so these topics never meet a queue's.
 */
export class Replies {
  /** The topics' common prefix, with its trailing `/`. */
  readonly #base: string;
  readonly #report: (error: MqError) => void;
  readonly #sinks = new Map<string, ReplySink>();
  #next = 0;
  /** The subscription on the current link, made or being made; undefined before the first request. */
  #subscribed: { link: MqttLink; ready: Promise<void>; done: boolean } | undefined;
  /** True once a request needed the subscription: each later link makes it again at once. */
  #wanted = false;

  /** `clientId` is the connection's; `report` emits an `error` on the connection. */
  constructor(clientId: string, report: (error: MqError) => void) {
    this.#base = `mq/reply/${createHash('sha256').update(clientId).digest('hex').slice(0, 32)}/`;
    this.#report = report;
  }

  /** A response topic of `sink`'s own, until {@link Replies.unregister}. */
  register(sink: ReplySink): string {
    this.#next += 1;
    const topic = `${this.#base}${this.#next}`;
    this.#sinks.set(topic, sink);
    return topic;
  }

  /** Forgets a sender's response topic: what still comes there is dropped (acked). */
  unregister(topic: string): void {
    this.#sinks.delete(topic);
  }

  /** True once the reply subscription is in place on `link`. */
  readyOn(link: MqttLink): boolean {
    return this.#subscribed?.link === link && this.#subscribed.done;
  }

  /** Resolves once the reply subscription is in place on `link` (made on the first call per link). */
  ready(link: MqttLink): Promise<void> {
    this.#wanted = true;
    if (this.#subscribed?.link === link) return this.#subscribed.ready;
    const ready = link.subscribe(`${this.#base}+`, 1).then(() => {
      entry.done = true;
    });
    const entry = { link, ready, done: false };
    this.#subscribed = entry;
    // A failed subscription is tried again by the next request.
    ready.catch(() => {
      if (this.#subscribed === entry) this.#subscribed = undefined;
    });
    return ready;
  }

  /** A new link is up: the reply subscription, once wanted, is restored at once (a failure is reported). */
  linkOpened(link: MqttLink): void {
    if (!this.#wanted) return;
    this.ready(link).catch((error: unknown) => {
      if (MqttLink.lostWith(error)) return;
      this.#report(errors.wrap(error, 'BROKER', 'restoring the reply subscription failed'));
    });
  }

  /** The link ended: its subscription with it. */
  linkEnded(): void {
    this.#subscribed = undefined;
  }

  /** True for a packet on a response topic of this connection. */
  owns(packet: IPublishPacket): boolean {
    return packet.topic.startsWith(this.#base);
  }

  /** Hands a reply to its sender (dropped when it is gone); always false: the link acks it at once. */
  dispatch(packet: IPublishPacket): false {
    this.#sinks.get(packet.topic)?.takeReply(packet);
    return false;
  }
}
