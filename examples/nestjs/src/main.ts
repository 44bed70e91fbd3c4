// The shop as a running service: a hybrid Nest app whose MqServer handles shop.orders (OrdersController) and
// whose reporting handlers print what was billed and what was dead-lettered. Runs on the in-process broker, or on
// RabbitMQ or Mosquitto with MQ_URL=amqp://... or mqtt://...
import 'reflect-metadata';
import { MQ_HEADERS } from '@mq/core';
import { MqClient, type MqContext, MqEventPattern, MqServer } from '@mq/nestjs';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, Payload } from '@nestjs/microservices';
import { TerminusModule } from '@nestjs/terminus';
import { lastValueFrom } from 'rxjs';
import { HealthController } from './health.controller.js';
import type { Order } from './orders.controller.js';
import { ShopModule } from './shop.module.js';

// Ids of this run only: a real broker may still hold events of an earlier, interrupted run.
const run = Date.now().toString(36);
const billed = new Set<string>();
const dead = new Set<string>();

@Controller()
class Reports {
  @MqEventPattern('shop.billed')
  onBilled(@Payload() event: { id: string }): void {
    if (!event.id.startsWith(run)) return;
    billed.add(event.id);
    console.log(`billed ${event.id}`);
  }

  @MqEventPattern('shop.orders.dead')
  onDead(@Payload() order: Order, @Ctx() ctx: MqContext): void {
    if (!order.id.startsWith(run)) return;
    const { headers } = ctx.getMessage();
    dead.add(order.id);
    console.log(
      `dead letter: ${order.id} after ${headers[MQ_HEADERS.deadLetterDeliveries]} deliveries: ${headers[MQ_HEADERS.deadLetterError]}`,
    );
  }
}

@Module({ imports: [ShopModule, TerminusModule.forRoot()], controllers: [Reports, HealthController] })
class MainModule {}

// mq's retries and dead letters show at 'warn' and 'error' (MqServer); Nest logs the stack of each failure ('error').
// #region hybrid
const app = await NestFactory.create(MainModule, { logger: ['error', 'warn'] });
app.connectMicroservice({ strategy: app.get(MqServer) }); // the module's server: the health indicator watches it
app.enableShutdownHooks(); // on SIGTERM: stop receiving, let running handlers finish and ack, then close
await app.startAllMicroservices();
// #endregion hybrid
await app.init();
console.log(`listening on ${process.env.MQ_URL ? 'MQ_URL' : 'memory://shop'}`);

const orders: Order[] = [
  { id: `${run}-1`, total: 30 },
  { id: `${run}-2`, total: -1 },
  { id: `${run}-3`, total: 12 },
];
for (const order of orders) await lastValueFrom(app.get(MqClient).emit('shop.orders', order));

const deadline = Date.now() + 20_000;
while ((billed.size < 2 || dead.size < 1) && Date.now() < deadline)
  await new Promise((r) => setTimeout(r, 20));
const health = await app.get(HealthController).check();
console.log(`health: ${health.status}, mq ${health.details.mq?.status}`);
await app.close();
const ok = billed.size === 2 && dead.size === 1;
console.log(
  ok ? `Done: ${billed.size} orders billed, ${dead.size} dead-lettered.` : 'FAILED: not everything arrived',
);
process.exitCode = ok ? 0 : 1;
