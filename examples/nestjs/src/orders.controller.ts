import { MqClient, MqEventPattern } from '@mq/nestjs';
import { Controller, Inject } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import type { Observable } from 'rxjs';

export type Order = { id: string; total: number };

@Controller()
export class OrdersController {
  constructor(@Inject(MqClient) private readonly mq: MqClient) {}

  // Acked once shop.billed is confirmed; a throw is retried, and dead-lettered at the third delivery.
  @MqEventPattern('shop.orders', { maxDeliveries: 3, deadLetter: 'shop.orders.dead' })
  bill(@Payload() order: Order): Observable<void> {
    if (order.total < 0) throw new Error(`order ${order.id}: negative total`);
    return this.mq.emit('shop.billed', { id: order.id });
  }
}
