import { MqModule } from '@mq/nestjs';
import { Module } from '@nestjs/common';
import { OrdersController } from './orders.controller.js';

@Module({
  // memory:// in tests and the demo, amqp://... or mqtt://... in production: the same handlers.
  imports: [MqModule.forRoot({ uri: process.env.MQ_URL ?? 'memory://shop' })],
  controllers: [OrdersController],
})
export class ShopModule {}
