import 'reflect-metadata';
import { type Message, MQ_HEADERS } from '@mq/core';
import { Controller, type INestMicroservice, Inject, type ModuleMetadata } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import {
  MqClient,
  type MqContext,
  MqEventPattern,
  MqModule,
  type MqModuleOptions,
  MqServer,
} from '../src/index.js';

/** What a test app's handlers saw, in order. */
export interface Seen {
  pattern: string;
  data: unknown;
  message: Message;
}

/** Polls `check` until it holds, or throws after `timeoutMillis` naming `what`. */
export async function until(check: () => boolean, what: string, timeoutMillis = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMillis} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The queue names of one test: unique, so runs and files never cross-talk. */
export function names(prefix: string): { jobs: string; dead: string; events: string } {
  const base = `mq-nestjs-test.${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
  return { jobs: `${base}.jobs`, dead: `${base}.jobs-dead`, events: `${base}.events` };
}

/**
 * A controller of a test app: `events` records and succeeds; `jobs` fails for the payload `'poison'` and bytes that
 * are not JSON (always) and
 * `'flaky'` (its first delivery), retried 50 ms later and dead-lettered after 3 deliveries to `dead`.
 */
export function ordersController(queue: ReturnType<typeof names>, seen: Seen[]) {
  @Controller()
  class OrdersController {
    constructor(@Inject(MqClient) readonly client: MqClient) {}

    // Nest's own decorator; `<string>` picks its untyped overload, which Nest 12 needs for a typed @Ctx().
    @EventPattern<string>(queue.events)
    async onEvent(@Payload() data: unknown, @Ctx() ctx: MqContext): Promise<void> {
      seen.push({ pattern: ctx.getPattern(), data, message: ctx.getMessage() });
    }

    @MqEventPattern(queue.jobs, { retryDelayMillis: 50, maxDeliveries: 3, deadLetter: queue.dead })
    async onJob(@Payload() data: unknown, @Ctx() ctx: MqContext): Promise<void> {
      const message = ctx.getMessage();
      seen.push({ pattern: ctx.getPattern(), data, message });
      if (Buffer.isBuffer(data)) throw new Error('expected JSON, got bytes');
      if (data === 'poison') throw new Error(`cannot do ${String(data)}`);
      if (data === 'flaky' && !message.redelivered) throw new Error('flaky the first time');
    }

    @MqEventPattern(queue.dead)
    async onDead(@Payload() data: unknown, @Ctx() ctx: MqContext): Promise<void> {
      seen.push({ pattern: ctx.getPattern(), data, message: ctx.getMessage() });
    }
  }
  return OrdersController;
}

/** A microservice made with `@nestjs/testing`, on `MqModule.forRoot(options)`, listening through the module's server. */
export async function startMicroservice(
  options: MqModuleOptions,
  metadata: ModuleMetadata,
): Promise<{ app: INestMicroservice; client: MqClient; server: MqServer }> {
  const moduleRef = await Test.createTestingModule({
    ...metadata,
    imports: [MqModule.forRoot(options), ...(metadata.imports ?? [])],
  }).compile();
  const server = moduleRef.get(MqServer);
  const app = moduleRef.createNestMicroservice({ strategy: server, logger: false });
  await app.listen();
  return { app, client: moduleRef.get(MqClient), server };
}

/** The dead-letter header values a test checks. */
export function deadLetterHeaders(
  message: Message,
): Record<'from' | 'deliveries' | 'error', string | undefined> {
  const { headers } = message;
  return {
    from: headers[MQ_HEADERS.deadLetterFrom],
    deliveries: headers[MQ_HEADERS.deadLetterDeliveries],
    error: headers[MQ_HEADERS.deadLetterError],
  };
}
