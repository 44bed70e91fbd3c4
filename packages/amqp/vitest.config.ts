import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'amqp',
    include: ['test/**/*.test.ts'],
    // A RabbitMQ node of the project's own, for the tests that need rabbitmqctl (see the file).
    globalSetup: ['test/node.setup.ts'],
    hookTimeout: 120_000,
    // rabbitmqctl takes a second or more per call while nodes start beside the tests.
    testTimeout: 30_000,
  },
});
