import { MqHealthIndicator } from '@mq/nestjs';
import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';

// GET /health: 503 while a connection is down or a receiver has no consumer attached at the broker.
@Controller('health')
export class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(MqHealthIndicator) private readonly mq: MqHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.mq.isHealthy()]);
  }
}
