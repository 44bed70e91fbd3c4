import 'reflect-metadata';
import { MemoryBroker } from '@mq/memory';
import { Body, Controller, Get, type INestApplication, Inject, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Payload } from '@nestjs/microservices';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { lastValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { MqClient, MqEventPattern, MqHealthIndicator, MqModule, MqServer } from '../src/index.js';
import { names, until } from './app.js';

let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('a hybrid Nest app (HTTP + MqServer) on memory://', () => {
  it('takes orders over HTTP, handles them as events, and serves /health from terminus: 200, 503 while the broker is gone, 200 again', async () => {
    const queue = names('hybrid');
    const broker = `hybrid-${queue.events.slice(-12)}`;
    const handled: unknown[] = [];

    @Controller()
    class Orders {
      constructor(
        @Inject(MqClient) private readonly client: MqClient,
        @Inject(HealthCheckService) private readonly health: HealthCheckService,
        @Inject(MqHealthIndicator) private readonly mq: MqHealthIndicator,
      ) {}

      @Post('orders')
      async create(@Body() order: { id: number }): Promise<{ accepted: boolean }> {
        await lastValueFrom(this.client.emit(queue.events, order));
        return { accepted: true };
      }

      @Get('health')
      @HealthCheck()
      check() {
        return this.health.check([() => this.mq.isHealthy()]);
      }

      @MqEventPattern(queue.events)
      onOrder(@Payload() order: unknown): void {
        handled.push(order);
      }
    }

    @Module({
      imports: [
        TerminusModule.forRoot({ logger: false }),
        MqModule.forRoot({
          uri: `memory://${broker}`,
          connection: { reconnectMillis: 20, reconnectMaxMillis: 50 },
        }),
      ],
      controllers: [Orders],
    })
    class AppModule {}

    app = await NestFactory.create(AppModule, { logger: false });
    app.connectMicroservice({ strategy: app.get(MqServer) });
    await app.startAllMicroservices();
    await app.listen(0, '127.0.0.1');
    const url = await app.getUrl();
    const health = async (): Promise<{ code: number; body: { status: string } }> => {
      const response = await fetch(`${url}/health`);
      return { code: response.status, body: (await response.json()) as { status: string } };
    };

    const posted = await fetch(`${url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 7 }),
    });
    expect(posted.status).toBe(201);
    await until(() => handled.length === 1, 'the order handled as an event');
    expect(handled).toEqual([{ id: 7 }]);
    expect(await health()).toMatchObject({ code: 200, body: { status: 'ok' } });

    MemoryBroker.named(broker).stop();
    const down = await health();
    expect(down.code).toBe(503);
    expect(down.body).toMatchObject({ status: 'error', error: { mq: { status: 'down' } } });
    MemoryBroker.named(broker).start();
    await until(() => app?.get(MqHealthIndicator).isHealthy().mq?.status === 'up', 'mq to re-attach');
    expect(await health()).toMatchObject({ code: 200, body: { status: 'ok' } });

    const server = app.get(MqServer);
    const client = app.get(MqClient);
    const connections = [server.unwrap<{ status: string }>(), client.unwrap<{ status: string }>()];
    await app.close();
    app = undefined;
    expect(connections.map((c) => c.status)).toEqual(['closed', 'closed']);
  });
});
