import type { Connection } from '../../api/connection.js';
import type { Queue } from '../../api/queue.js';
import { checkThrowsCode } from '../assert.js';
import type { ContractContext } from '../context.js';
import type { ContractCase } from '../types.js';
import { defineCase } from './define.js';

/** A backend's queue class, as apps construct it: `new Queue(options, connection)`. */
type QueueClass = new (options: Record<string, unknown>, connection: Connection) => Queue;

/**
 * The class of the queues `createQueue` makes (a sender, which every backend can make): what apps construct
 * with `new`, bypassing `createQueue`.
 */
function queueClassOf(ctx: ContractContext, connection: Connection): QueueClass {
  const sample = ctx.newQueue(connection, { name: ctx.name('sample'), isRecv: false });
  return sample.constructor as QueueClass;
}

/**
 * Fails unless `new Queue(options, connection)` throws `UNSUPPORTED` at once; a queue it makes anyway is never
 * connected, so nothing is left to close.
 */
function checkRefusedByNew(ctx: ContractContext, options: Record<string, unknown>, what: string): void {
  const connection = ctx.newConnection();
  const Queue = queueClassOf(ctx, connection);
  const extra = ctx.target.extraQueueOptions?.({
    isRecv: options.isRecv === true,
    reliable: options.reliable === true,
    broadcast: options.broadcast === true,
  });
  checkThrowsCode(
    () => new Queue({ reconnectMillis: 200, ...options, ...extra }, connection),
    'UNSUPPORTED',
    `${what}, made with new ${Queue.name}(options, connection)`,
  );
}

/**
 * Every capability refusal happens in the queue's constructor, whoever constructs the queue: an app that writes
 * `new AmqpQueue(options, connection)` gets the same `UNSUPPORTED` as one that calls `createQueue`, never a queue
 * that accepts the option and ignores it.
 */
export const constructionCases: ContractCase[] = [
  defineCase(
    'validation',
    'new-refuses-broadcast',
    'a backend without broadcast refuses a broadcast sender and receiver made with new, in the constructor',
    async (ctx) => {
      const name = ctx.name();
      checkRefusedByNew(ctx, { name, isRecv: false, broadcast: true }, 'a broadcast sender');
      checkRefusedByNew(ctx, { name, isRecv: true, broadcast: true }, 'a broadcast receiver');
    },
    { requires: ['no:broadcast'] },
  ),

  defineCase(
    'validation',
    'new-refuses-max-deliveries',
    'a backend that cannot count deliveries refuses a receiver given maxDeliveries made with new, in the constructor',
    async (ctx) => {
      checkRefusedByNew(
        ctx,
        { name: ctx.name(), isRecv: true, reliable: true, maxDeliveries: 3 },
        'a receiver with maxDeliveries',
      );
    },
    { requires: ['no:countsDeliveries'] },
  ),

  defineCase(
    'validation',
    'new-refuses-dead-letter',
    'a backend without dead-letter queues refuses a receiver given deadLetter made with new, in the constructor',
    async (ctx) => {
      checkRefusedByNew(
        ctx,
        { name: ctx.name(), isRecv: true, reliable: true, maxDeliveries: 3, deadLetter: ctx.name('dead') },
        'a receiver with deadLetter',
      );
    },
    { requires: ['no:deadLetter'] },
  ),
];
