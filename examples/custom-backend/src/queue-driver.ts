import {
  type DeliveredMessage,
  NO_HEADERS,
  type PendingSend,
  type QueueCore,
  type QueueDriver,
} from '@mq/core/spi';
import type { Redis } from 'ioredis';
import type { RedisLink } from './connection.js';
import { errors } from './errors.js';

/** Moves a consumer's whole processing list back to the delivery end of its queue, oldest delivered first. */
const REQUEUE_ALL = `local n = 0
while redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT') do n = n + 1 end
return n`;

/**
 * Moves a processing list back to the delivery end of its queue and forgets its receiver, but only if its lease
 * has expired (its receiver died without closing). KEYS: the processing list, its lease, the queue, the set of
 * the queue's receivers; ARGV: the receiver's id.
 */
const REQUEUE_IF_DEAD = `if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local n = 0
while redis.call('LMOVE', KEYS[1], KEYS[3], 'LEFT', 'RIGHT') do n = n + 1 end
redis.call('SREM', KEYS[4], ARGV[1])
return n`;

/**
 * How long a reliable receiver's lease on its processing list lasts; it renews it every third of that. A list
 * whose lease has run out belongs to a receiver that died: the other receivers of the queue requeue it.
 */
const LEASE_MILLIS = 3000;

/** At most this many waiting messages are taken in one round trip after the first. */
const MAX_BATCH = 64;

/**
 * Moves one nacked message from a processing list to the back of its queue (behind the messages waiting, so that
 * a message whose handler keeps failing cannot hold up the others), if it is still there.
 */
const REQUEUE_ONE = `if redis.call('LREM', KEYS[1], -1, ARGV[1]) > 0 then redis.call('LPUSH', KEYS[2], ARGV[1]) end
return 0`;

/** What a receiver holds while open: its own link, and how many messages await an ack. */
interface Receiver {
  readonly client: Redis;
  /** `CLIENT KILL` filters naming this link (its id and address, so a reused id after a restart never matches). */
  filters: string[] | undefined;
  /** True once Redis confirmed the link is gone (`CLIENT KILL`). */
  killed: boolean;
  stopped: boolean;
  inFlight: number;
  wake: (() => void) | undefined;
  /** Reliable unicast only: renews the lease and requeues the lists of dead receivers. */
  leaseTimer?: NodeJS.Timeout;
  /** A lease tick is under way (ticks never overlap). */
  leasing?: boolean;
}

/**
 * The keys of one queue object, and what outlives its `connect()` cycles: its receiver id (one processing list
 * per queue object, kept across reconnects so that open() can recover it) and the receiver links it dropped while
 * Redis was out of reach.
 */
export class RedisQueueKeys {
  /** The list of the queue: `<prefix>q:<name>`. */
  readonly queueKey: string;
  /** This queue object's receiver id: its processing list and lease end in it. */
  readonly id: string;
  /** The set of the ids of every reliable receiver of this queue, live or dead: `<prefix>r:<name>`. */
  readonly receiversKey: string;
  /** This receiver's processing list. */
  readonly processingKey: string;
  /** The lease on the processing list: `<prefix>l:<name>:<id>`, alive while this receiver is. */
  readonly leaseKey: string;
  /** The PUB/SUB channel of a broadcast queue: `<prefix>b:<name>`. */
  readonly channel: string;
  /** Receiver links dropped while Redis was out of reach, as kill filters: they may still be blocked there. */
  readonly stale = new Set<string[]>();
  readonly #prefix: string;
  readonly #name: string;

  constructor(keyPrefix: string, name: string, id: string) {
    this.#prefix = keyPrefix;
    this.#name = name;
    this.id = id;
    this.queueKey = `${keyPrefix}q:${name}`;
    this.receiversKey = `${keyPrefix}r:${name}`;
    this.processingKey = this.processingKeyOf(id);
    this.leaseKey = this.leaseKeyOf(id);
    this.channel = `${keyPrefix}b:${name}`;
  }

  /** The processing list of receiver `id`. */
  processingKeyOf(id: string): string {
    return `${this.#prefix}p:${this.#name}:${id}`;
  }

  /** The lease of receiver `id`. */
  leaseKeyOf(id: string): string {
    return `${this.#prefix}l:${this.#name}:${id}`;
  }
}

/**
 * One `connect()`..`closed` cycle of a `RedisQueue`. Unicast is the list `<prefix>q:<name>`: senders `LPUSH`; a
 * reliable receiver `BLMOVE`s each message into its own processing list `<prefix>p:<name>:<id>` until acked.
 * Broadcast is the PUB/SUB channel `<prefix>b:<name>`, which keeps nothing and has no acks.
 */
export class RedisQueueDriver implements QueueDriver {
  readonly #core: QueueCore;
  readonly #link: RedisLink;
  readonly #keys: RedisQueueKeys;
  #receiver: Receiver | undefined;

  constructor(core: QueueCore, link: RedisLink, keys: RedisQueueKeys) {
    this.#core = core;
    this.#link = link;
    this.#keys = keys;
  }

  get #name(): string {
    return this.#core.options.name;
  }

  async open(): Promise<void> {
    this.#teardown();
    const main = this.#link.commandClient(`cannot open '${this.#name}'`);
    if (!this.#core.options.isRecv) return;
    await this.#killStale(main);
    const client = await this.#link.openClient();
    const rx: Receiver = {
      client,
      filters: undefined,
      killed: false,
      stopped: false,
      inFlight: 0,
      wake: undefined,
    };
    this.#receiver = rx;
    try {
      const info = String(await client.client('INFO'));
      const field = (key: string): string => new RegExp(`(?:^| )${key}=(\\S*)`).exec(info)?.[1] ?? '';
      rx.filters = ['ID', field('id'), 'ADDR', field('addr')];
      if (this.#core.options.broadcast) {
        client.on('messageBuffer', (_channel: Buffer, payload: Buffer) => {
          if (!rx.stopped) this.#core.deliver(message(payload, settled, settled));
        });
        client.once('end', () => this.#lost(rx, new Error('subscriber link closed')));
        await client.subscribe(this.#keys.channel);
      } else if (this.#core.options.reliable) {
        // Messages left unacked on a previous link go back first, so they are delivered again.
        await this.#link.bounded(
          main.eval(REQUEUE_ALL, 2, this.#keys.processingKey, this.#keys.queueKey),
          'requeueing unacked messages',
        );
        await this.#link.bounded(
          main.sadd(this.#keys.receiversKey, this.#keys.id),
          'registering the receiver',
        );
        await this.#leaseTick(rx, main);
        // Only for a receiver still current: a link lost during the tick has been torn down already.
        if (this.#receiver === rx && !rx.stopped) {
          rx.leaseTimer = setInterval(() => void this.#leaseTick(rx), LEASE_MILLIS / 3).unref();
        }
      }
      // The connection may have dropped (and come back) while this ran: never consume on a stale link.
      if (rx.stopped || this.#link.commandClient(`cannot open '${this.#name}'`) !== main) {
        throw errors.error('CONNECTION_LOST', `link lost while opening '${this.#name}'`);
      }
    } catch (error) {
      if (this.#receiver === rx) this.#teardown();
      throw error;
    }
    if (!this.#core.options.broadcast) void this.#consume(rx);
  }

  publish(payload: Uint8Array, send: PendingSend): void {
    // Settle `send` when the command is answered; core rejects it at its deadline or when the link drops.
    send.follow(this.#write(payload));
  }

  async #write(payload: Uint8Array): Promise<void> {
    const client = this.#link.commandClient(`message not sent to '${this.#name}'`);
    const body = Buffer.isBuffer(payload)
      ? payload
      : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    try {
      if (this.#core.options.broadcast) await client.publish(this.#keys.channel, body);
      else await client.lpush(this.#keys.queueKey, body);
    } catch (error) {
      // A link that is going down fails writes before ioredis leaves 'ready' ("Stream isn't writeable").
      const lost = client.status !== 'ready' || /writeable|Connection is closed/i.test(String(error));
      throw errors.wrap(error, lost ? 'CONNECTION_LOST' : 'BROKER', `send to '${this.#name}' failed`);
    }
  }

  async stopReceiving(): Promise<void> {
    const rx = this.#receiver;
    if (!rx) return;
    rx.stopped = true;
    rx.wake?.();
    await this.#kill(rx);
    rx.client.disconnect();
  }

  async release(): Promise<void> {
    const rx = this.#receiver;
    if (rx) await this.#kill(rx);
    this.#teardown();
    if (!rx || this.#core.options.broadcast || !this.#core.options.reliable) return;
    const main = this.#link.commandClient(
      `unacked messages of '${this.#name}' stay in ${this.#keys.processingKey}`,
    );
    await this.#killStale(main);
    await this.#link.bounded(
      main.eval(REQUEUE_ALL, 2, this.#keys.processingKey, this.#keys.queueKey),
      'requeueing unacked messages',
    );
    await this.#link.bounded(main.srem(this.#keys.receiversKey, this.#keys.id), 'unregistering the receiver');
  }

  linkDown(): void {
    this.#teardown();
  }

  /**
   * Takes messages as they come, holding at most `prefetch` unacked on a reliable queue: one blocking move waits
   * for the first, then one pipelined round trip takes what else is waiting (up to the room left), so a backlog
   * drains at a batch per round trip instead of a message per round trip.
   */
  async #consume(rx: Receiver): Promise<void> {
    const { options } = this.#core;
    if (!options.isRecv) return;
    const { prefetch, reliable } = options;
    while (!rx.stopped) {
      if (reliable && rx.inFlight >= prefetch) {
        await new Promise<void>((resolve) => {
          rx.wake = resolve;
        });
        continue;
      }
      let payloads: Buffer[];
      try {
        const first = reliable
          ? await rx.client.blmoveBuffer(this.#keys.queueKey, this.#keys.processingKey, 'RIGHT', 'LEFT', 0)
          : ((await rx.client.brpopBuffer(this.#keys.queueKey, 0))?.[1] ?? null);
        if (first === null) continue;
        const room = reliable ? Math.min(prefetch - rx.inFlight - 1, MAX_BATCH) : MAX_BATCH;
        payloads = [first, ...(rx.stopped || room <= 0 ? [] : await this.#takeWaiting(rx, room))];
      } catch (error) {
        this.#lost(rx, error);
        return;
      }
      // Messages moved after stop stay in the processing list, which release() or open() requeues.
      if (rx.stopped) continue;
      for (const payload of payloads) this.#deliver(rx, payload);
    }
  }

  /** Up to `count` more waiting messages in one round trip, without blocking (moved to the processing list if reliable). */
  async #takeWaiting(rx: Receiver, count: number): Promise<Buffer[]> {
    const { queueKey, processingKey } = this.#keys;
    if (!this.#core.options.reliable) return (await rx.client.rpopBuffer(queueKey, count)) ?? [];
    const pipeline = rx.client.pipeline();
    for (let i = 0; i < count; i += 1) pipeline.lmoveBuffer(queueKey, processingKey, 'RIGHT', 'LEFT');
    const results = (await pipeline.exec()) ?? [];
    const taken: Buffer[] = [];
    // Every result counts, also after an empty one: a pipeline is not atomic, so a message sent between two of
    // its moves is moved by the later one (and stopping at the first null would strand it in the processing list).
    for (const [error, payload] of results) {
      if (error) throw error;
      if (payload !== null) taken.push(payload as Buffer);
    }
    return taken;
  }

  /** Hands one taken message to core; a reliable one counts against `prefetch` until settled. */
  #deliver(rx: Receiver, payload: Buffer): void {
    if (!this.#core.options.reliable) {
      this.#core.deliver(message(payload, settled, settled));
      return;
    }
    rx.inFlight += 1;
    // The processing list is searched by value: keep a copy of our own, as the handler may change the bytes
    // it is given (then nack), and a changed body would match nothing and stay stuck in the list.
    const body = Buffer.from(payload);
    this.#core.deliver(
      message(
        payload,
        () => this.#settle(rx, 'ack', (c) => c.lrem(this.#keys.processingKey, -1, body)),
        () =>
          this.#settle(rx, 'nack', (c) =>
            c.eval(REQUEUE_ONE, 2, this.#keys.processingKey, this.#keys.queueKey, body),
          ),
      ),
    );
  }

  /**
   * Renews this receiver's lease, then requeues the processing lists of this queue whose lease has run out
   * (receivers that died without closing: a crash, a SIGKILL, a lost machine). Failures wait for the next tick.
   */
  async #leaseTick(rx: Receiver, main?: Redis): Promise<void> {
    // Renewed also while the receiver closes (stopped, handlers still running): until release() its list is its own.
    if (this.#receiver !== rx || rx.leasing) return;
    rx.leasing = true;
    try {
      const client = main ?? this.#link.commandClient('lease not renewed');
      await this.#link.bounded(
        client.set(this.#keys.leaseKey, '1', 'PX', LEASE_MILLIS),
        'renewing the lease',
      );
      // The queue's own receivers only: never a scan of the whole keyspace.
      const ids = await this.#link.bounded(client.smembers(this.#keys.receiversKey), 'listing the receivers');
      for (const id of ids) {
        if (id === this.#keys.id) continue;
        await this.#link.bounded(
          client.eval(
            REQUEUE_IF_DEAD,
            4,
            this.#keys.processingKeyOf(id),
            this.#keys.leaseKeyOf(id),
            this.#keys.queueKey,
            this.#keys.receiversKey,
            id,
          ),
          'requeueing a dead list',
        );
      }
    } catch {
      // Redis is out of reach or the link is going: the next tick, or the next open, tries again.
    } finally {
      rx.leasing = false;
    }
  }

  async #settle(rx: Receiver, what: string, command: (client: Redis) => Promise<unknown>): Promise<void> {
    try {
      if (this.#receiver !== rx) throw new Error('its receiver link is gone');
      await command(this.#link.commandClient(`cannot ${what}`));
    } catch (error) {
      throw errors.wrap(
        error,
        'ACK_FAILED',
        `${what} on '${this.#name}' failed; the message will be delivered again`,
      );
    } finally {
      rx.inFlight -= 1;
      rx.wake?.();
      rx.wake = undefined;
    }
  }

  /** The receiver's own link died while the connection may still be up: report it and let BaseQueue retry. */
  #lost(rx: Receiver, error: unknown): void {
    if (rx.stopped || this.#receiver !== rx) return;
    this.#teardown();
    this.#core.resourceLost(error);
  }

  /**
   * Ends a receiver link on the server, through the command link. Closing our socket is not enough: until Redis
   * notices, a `BLMOVE` still blocked there would take the messages we are about to requeue.
   */
  async #kill(rx: Receiver): Promise<void> {
    if (rx.killed || !rx.filters) return;
    try {
      await this.#link.bounded(
        this.#link.commandClient('cannot end the receiver link').client('KILL', ...rx.filters),
        'CLIENT KILL',
      );
      rx.killed = true;
    } catch {
      // Redis is out of reach: the next open() or release() kills it (see #stale).
    }
  }

  async #killStale(main: Redis): Promise<void> {
    for (const filters of [...this.#keys.stale]) {
      this.#keys.stale.delete(filters);
      // If the ACL forbids CLIENT KILL, go on: the link ends once Redis notices its socket closed.
      await this.#link.bounded(main.client('KILL', ...filters), 'CLIENT KILL').catch(() => {});
    }
  }

  #teardown(): void {
    const rx = this.#receiver;
    this.#receiver = undefined;
    if (!rx) return;
    rx.stopped = true;
    clearInterval(rx.leaseTimer);
    rx.wake?.();
    rx.client.disconnect();
    if (!rx.killed && rx.filters) this.#keys.stale.add(rx.filters);
  }
}

const settled = (): Promise<void> => Promise.resolve();

/** A received message; settling it twice is ignored. */
function message(payload: Buffer, ack: () => Promise<void>, nack: () => Promise<void>): DeliveredMessage {
  let done = false;
  const once = (settle: () => Promise<void>) => (): Promise<void> => {
    if (done) return Promise.resolve();
    done = true;
    return settle();
  };
  // This backend carries no metadata (capability metadata undeclared): no headers, never known redelivered.
  return { payload, headers: NO_HEADERS, redelivered: false, ack: once(ack), nack: once(nack) };
}
