/** What a sender said of a message, kept with it: its metadata, when it was stored, when it expires. */
export interface StoredMeta {
  /** Application headers (frozen). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** The sender's message id. */
  readonly messageId?: string | undefined;
  /** The sender's correlation id. */
  readonly correlationId?: string | undefined;
  /** The payload's MIME type. */
  readonly contentType?: string | undefined;
  /** Where the sender wants its answer. */
  readonly replyTo?: string | undefined;
  /** `Date.now()` when the broker stored it. */
  readonly timestamp: number;
  /** `Date.now()` after which it is dropped undelivered, if it expires. */
  readonly expiresAt?: number | undefined;
  /** The topic it was published with, in a topic space. */
  readonly topic?: string | undefined;
}

/** One message held by a mailbox. */
export interface Stored {
  /** The bytes, owned by the broker. */
  readonly payload: Buffer;
  /** Its metadata. */
  readonly meta: StoredMeta;
  /** True once it was delivered before and put back. */
  redelivered: boolean;
  /** How many times it was delivered before. */
  deliveries: number;
  /** Its place in the mailbox: it goes back there when handed back. */
  readonly seq: number;
}

/** A consumer of a mailbox: how many unacked messages it may hold, and where deliveries go. */
export interface Consumer {
  /** Most unacked messages at once (0 once it stopped taking any). */
  readonly prefetch: number;
  /** Receives one message; `tag` settles it. */
  deliver(stored: Stored, tag: number): void;
}

/**
 * A FIFO of messages with competing consumers, like an AMQP queue: round-robin over consumers that have room
 * under their prefetch; nack and cancel put messages back in their original place, as RabbitMQ does.
 */
export class Mailbox {
  readonly #ready: Stored[] = [];
  readonly #consumers: Array<{ consumer: Consumer; unacked: Map<number, Stored> }> = [];
  /** Deliveries acked by a move whose own ack has not come yet. */
  readonly #moved = new Set<number>();
  #nextTag = 1;
  #nextSeq = 1;
  #turn = 0;
  #pumping = false;

  /** Messages waiting for a consumer. */
  get depth(): number {
    return this.#ready.length;
  }

  /** Consumers attached. */
  get consumerCount(): number {
    return this.#consumers.length;
  }

  /** True while `consumer` is attached here. */
  has(consumer: Consumer): boolean {
    return this.#consumers.some((entry) => entry.consumer === consumer);
  }

  /** Stores a message and delivers what it can. */
  push(payload: Buffer, meta: StoredMeta): void {
    this.#ready.push({ payload, meta, redelivered: false, deliveries: 0, seq: this.#nextSeq++ });
    this.#schedulePump();
  }

  /** Attaches a consumer. */
  consume(consumer: Consumer): void {
    this.#consumers.push({ consumer, unacked: new Map() });
    this.#schedulePump();
  }

  /** Detaches a consumer; its unacked messages go back to the front of the queue. Returns false if unknown. */
  cancel(consumer: Consumer): boolean {
    const index = this.#consumers.findIndex((entry) => entry.consumer === consumer);
    if (index < 0) return false;
    const [entry] = this.#consumers.splice(index, 1);
    this.#requeue([...entry!.unacked.values()]);
    return true;
  }

  /**
   * Settles a delivery: `requeue` puts it back at the front. False when the consumer or tag is gone, unless the
   * delivery was moved (see {@link Mailbox.move}): the move acked it already, so its ack succeeds.
   */
  settle(consumer: Consumer, tag: number, requeue: boolean): boolean {
    if (this.#moved.delete(tag)) return true;
    const entry = this.#consumers.find((e) => e.consumer === consumer);
    const stored = entry?.unacked.get(tag);
    if (!entry || !stored) return false;
    entry.unacked.delete(tag);
    if (requeue) this.#requeue([stored]);
    // The room an ack frees matters only to messages waiting for it.
    else if (this.#ready.length > 0) this.#schedulePump();
    return true;
  }

  /**
   * Stores a copy of delivery `tag` of `consumer` (`payload` with `meta`) in `target` and acks that delivery, in
   * one step: a link lost between the two cannot hand out both. False, and nothing stored, when the delivery is
   * no longer held (its consumer went away and the message is waiting again). Its later ack succeeds and does
   * nothing more.
   */
  move(consumer: Consumer, tag: number, target: Mailbox, payload: Buffer, meta: StoredMeta): boolean {
    const entry = this.#consumers.find((e) => e.consumer === consumer);
    if (!entry?.unacked.delete(tag)) return false;
    this.#moved.add(tag);
    target.push(payload, meta);
    if (this.#ready.length > 0) this.#schedulePump();
    return true;
  }

  /** Puts messages back where they were among those waiting (which stay in sending order), whatever the order they come back in. */
  #requeue(items: Stored[]): void {
    for (const item of items) {
      item.redelivered = true;
      let low = 0;
      let high = this.#ready.length;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (this.#ready[middle]!.seq < item.seq) low = middle + 1;
        else high = middle;
      }
      this.#ready.splice(low, 0, item);
    }
    this.#schedulePump();
  }

  // Deliveries are asynchronous, as over a network: a handler never runs inside the send that caused it.
  #schedulePump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    setImmediate(() => {
      this.#pumping = false;
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#ready.length > 0) {
      const entry = this.#nextWithRoom();
      if (!entry) return;
      const stored = this.#ready.shift()!;
      // Expired while it waited: dropped, as a broker drops a message past its expiration.
      if (stored.meta.expiresAt !== undefined && Date.now() > stored.meta.expiresAt) continue;
      const tag = this.#nextTag++;
      entry.unacked.set(tag, stored);
      entry.consumer.deliver(stored, tag);
      stored.deliveries += 1;
    }
  }

  #nextWithRoom(): { consumer: Consumer; unacked: Map<number, Stored> } | undefined {
    for (let i = 0; i < this.#consumers.length; i += 1) {
      const entry = this.#consumers[(this.#turn + i) % this.#consumers.length]!;
      if (entry.unacked.size < entry.consumer.prefetch) {
        this.#turn = (this.#turn + i + 1) % this.#consumers.length;
        return entry;
      }
    }
    return undefined;
  }
}
