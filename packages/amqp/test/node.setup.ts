import { rabbitmqMissing, startRabbitNode } from '@mq/testkit';
import type { TestProject } from 'vitest/node';

/**
 * Starts one RabbitMQ node of the amqp project's own for the tests that need `rabbitmqctl` (topology, prefetch,
 * connection properties, forced closes of their own connections), so that none of them needs a command-line tool
 * for, or touches, the broker under test. Where RabbitMQ is not installed those tests show as skipped, saying so.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const missing = rabbitmqMissing();
  if (missing) {
    project.provide('rabbitNode', missing);
    return undefined;
  }
  const node = await startRabbitNode();
  project.provide('rabbitNode', node.info);
  return () => node.dispose();
}
