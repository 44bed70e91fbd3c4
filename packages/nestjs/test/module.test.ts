import { MqError } from '@mq/core';
import { MemoryBroker, type MemoryConnection } from '@mq/memory';
import { Controller, Inject, Injectable, Module } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { lastValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { MqClient, MqEventPattern, MqHealthIndicator, MqModule, MqServer } from '../src/index.js';
import { names, until } from './app.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()?.();
});

/** A stand-in for an app's configuration service, as forRootAsync would read the broker URL from. */
@Injectable()
class Settings {
  constructor(readonly brokerUrl: string) {}
}

@Module({
  providers: [{ provide: Settings, useFactory: () => new Settings('memory://settings') }],
  exports: [Settings],
})
class SettingsModule {}

describe('MqModule', () => {
  it('forRootAsync makes its options with a factory from another module', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        MqModule.forRootAsync({
          imports: [SettingsModule],
          inject: [Settings],
          useFactory: (settings: Settings) => ({
            uri: settings.brokerUrl,
            queueDefaults: { reliable: false },
          }),
        }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    closers.push(() => app.close());
    const client = app.get(MqClient);
    await client.connect();
    expect(client.unwrap<MemoryConnection>().broker.name).toBe('settings');
  });

  it('forFeature adds a named client over the root options, which health reports and shutdown closes', async () => {
    const queue = names('feature');
    const got: unknown[] = [];
    @Controller()
    class Audit {
      constructor(@Inject('AUDIT') readonly audit: MqClient) {}
      @MqEventPattern(queue.events)
      onEvent(@Payload() data: unknown): void {
        got.push(data);
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [
        MqModule.forRoot({ uri: `memory://${queue.events}` }),
        MqModule.forFeature({ name: 'AUDIT', queueDefaults: { reliable: false } }),
      ],
      controllers: [Audit],
    }).compile();
    const app = moduleRef.createNestMicroservice({ strategy: moduleRef.get(MqServer), logger: false });
    await app.listen();
    const audit = app.get<MqClient>('AUDIT');
    expect(audit).not.toBe(app.get(MqClient));
    await lastValueFrom(audit.emit(queue.events, { who: 'audit' }));
    await until(() => got.length === 1, 'the event sent by the AUDIT client');
    const report = app.get(MqHealthIndicator).isHealthy();
    expect(report.mq?.status).toBe('up');
    expect(report.mq?.transports.map((t) => t.name)).toEqual(['server', 'client', 'AUDIT']);
    expect(report.mq?.transports.find((t) => t.name === 'AUDIT')?.queues).toMatchObject([
      { pattern: queue.events, side: 'sender', status: 'connected', sendsInFlight: 0 },
    ]);
    const connection = audit.unwrap<{ status: string }>();
    await app.close();
    expect(connection.status).toBe('closed');
    expect(app.get(MqServer).health().connection).toBeUndefined();
  });

  it('refuses bad options with INVALID_OPTIONS naming the field, and an unserved scheme naming the package', async () => {
    const invalid = (build: () => unknown): unknown => {
      try {
        build();
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const unknownField = invalid(() => new MqServer({ uri: 'memory://x', prefetch: 3 } as never));
    expect(MqError.hasCode(unknownField, 'INVALID_OPTIONS')).toBe(true);
    expect((unknownField as Error).message).toContain('unknown field "prefetch"');
    const named = invalid(() => new MqClient({ uri: 'memory://x', queues: { jobs: { name: 'other' } } }));
    expect((named as Error).message).toContain('queues.jobs.name cannot be set');
    expect(
      MqError.hasCode(
        invalid(() => MqModule.forFeature({ name: '' })),
        'INVALID_OPTIONS',
      ),
    ).toBe(true);

    const nats = new MqClient({ uri: 'nats://127.0.0.1:4222' });
    const error = await nats.connect().catch((e: unknown) => e);
    expect(MqError.hasCode(error, 'UNSUPPORTED')).toBe(true);
    expect((error as Error).message).toContain('no backend serves nats');
  });

  it('fails listen() with the option the queue refused, naming it, and leaves nothing open', async () => {
    const queue = names('bad-extras');
    @Controller()
    class Bad {
      @MqEventPattern(queue.events, { prefetch: 0 })
      onEvent(): void {}
    }
    const moduleRef = await Test.createTestingModule({
      imports: [MqModule.forRoot({ uri: `memory://${queue.events}` })],
      controllers: [Bad],
    }).compile();
    const server = moduleRef.get(MqServer);
    const app = moduleRef.createNestMicroservice({ strategy: server, logger: false });
    closers.push(() => app.close());
    const error = await app.listen().catch((e: unknown) => e);
    expect(MqError.hasCode(error, 'INVALID_OPTIONS')).toBe(true);
    expect((error as Error).message).toContain('prefetch');
    expect(server.health().connection).toBeUndefined();
  });
});

describe('MqServer and MqClient events', () => {
  it('on() forwards status changes and error events; unwrap() refuses before there is a connection', async () => {
    const queue = names('events-api');
    @Controller()
    class Failing {
      @MqEventPattern(queue.jobs, { retryDelayMillis: 10, maxDeliveries: 2 })
      onJob(): void {
        throw new Error('always fails');
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [MqModule.forRoot({ uri: `memory://${queue.jobs}` })],
      controllers: [Failing],
    }).compile();
    const server = moduleRef.get(MqServer);
    const client = moduleRef.get(MqClient);
    const unwrapped = (() => {
      try {
        return server.unwrap();
      } catch (error) {
        return error;
      }
    })();
    expect(MqError.hasCode(unwrapped, 'NOT_CONNECTED')).toBe(true);
    const statuses: string[] = [];
    const errors: string[] = [];
    server.on('status', (status) => statuses.push(status));
    server.on('error', (error) => errors.push(error.code));
    client.on('status', (status) => statuses.push(`client ${status}`));
    const app = moduleRef.createNestMicroservice({ strategy: server, logger: false });
    await app.listen();
    closers.push(() => app.close());
    await lastValueFrom(client.emit(queue.jobs, 'x'));
    await until(() => errors.includes('DROPPED'), 'the message dropped after maxDeliveries');
    expect(errors).toEqual(['HANDLER_FAILED', 'HANDLER_FAILED', 'DROPPED']);
    expect(statuses).toContain('connected');
    expect(statuses).toContain('client connected');
  });
});

describe('MqHealthIndicator with @nestjs/terminus', () => {
  it('is up while listening, down (naming why) while the broker is gone, and up again when mq has re-attached', async () => {
    const queue = names('health');
    const broker = `health-${queue.events.slice(-12)}`;
    @Controller()
    class Handlers {
      @MqEventPattern(queue.events)
      onEvent(): void {}
    }
    const moduleRef = await Test.createTestingModule({
      imports: [
        TerminusModule.forRoot({ logger: false }),
        MqModule.forRoot({
          uri: `memory://${broker}`,
          connection: { reconnectMillis: 20, reconnectMaxMillis: 50 },
        }),
      ],
      controllers: [Handlers],
    }).compile();
    const app = moduleRef.createNestMicroservice({ strategy: moduleRef.get(MqServer), logger: false });
    await app.listen();
    closers.push(() => app.close());
    const health = app.get(HealthCheckService);
    const mq = app.get(MqHealthIndicator);
    const check = () => health.check([() => mq.isHealthy('broker')]);

    await expect(check()).resolves.toMatchObject({ status: 'ok', info: { broker: { status: 'up' } } });
    MemoryBroker.named(broker).stop();
    await until(() => mq.isHealthy().mq?.status === 'down', 'the indicator to go down');
    const down = await check().catch((e: { getResponse(): unknown }) => e.getResponse());
    expect(down).toMatchObject({ status: 'error', error: { broker: { status: 'down' } } });
    const problems = mq.isHealthy().mq?.problems ?? [];
    expect(problems.some((p) => /^server: connection (disconnected|connecting)/.test(p))).toBe(true);
    expect(problems).toContain(
      `server: receiver '${queue.events}' has no consumer attached at the broker (disconnected)`,
    );
    MemoryBroker.named(broker).start();
    await until(() => mq.isHealthy().mq?.status === 'up', 'the indicator to come back up');
    await expect(check()).resolves.toMatchObject({ status: 'ok' });
  });
});
