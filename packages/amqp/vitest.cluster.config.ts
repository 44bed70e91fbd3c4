import { defineProject } from 'vitest/config';

// The 3-node RabbitMQ cluster tests (`pnpm test:cluster`): they start a cluster of their own, which takes
// most of the machine for a minute, so they run on their own, after `npm test`, not beside it.
export default defineProject({
  test: {
    name: 'amqp-cluster',
    include: ['cluster/**/*.test.ts'],
    hookTimeout: 180_000,
    testTimeout: 180_000,
    fileParallelism: false,
  },
});
