import { MqClient, type MqContext, MqEventPattern, MqServer } from '@mq/nestjs';
import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { lastValueFrom } from 'rxjs';
import { expect, it, vi } from 'vitest';
import { ShopModule } from '../src/shop.module.js';

const seen: [string, unknown][] = [];
@Controller()
class Watcher {
  @MqEventPattern(['shop.billed', 'shop.orders.dead'])
  watch(@Payload() event: unknown, @Ctx() ctx: MqContext) {
    seen.push([ctx.getPattern(), event]);
  }
}

it('bills an order, and dead-letters the one it cannot bill after three tries', async () => {
  const shop = await Test.createTestingModule({ imports: [ShopModule], controllers: [Watcher] }).compile();
  const app = shop.createNestMicroservice({ strategy: shop.get(MqServer) });
  await app.listen();
  await lastValueFrom(shop.get(MqClient).emit('shop.orders', { id: 'a-1', total: 30 }));
  await lastValueFrom(shop.get(MqClient).emit('shop.orders', { id: 'a-2', total: -1 }));
  const dead = ['shop.orders.dead', { id: 'a-2', total: -1 }];
  await vi.waitFor(() => expect(seen).toEqual([['shop.billed', { id: 'a-1' }], dead]), { timeout: 10_000 });
  await app.close();
});
