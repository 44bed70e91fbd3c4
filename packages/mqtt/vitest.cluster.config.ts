import { defineProject } from 'vitest/config';

// The 3-node RabbitMQ cluster test over its MQTT plugin (`pnpm test:cluster:mqtt`): it starts a cluster of its
// own, which takes most of the machine for a minute, so it runs on its own, after `npm test`, not beside it.
export default defineProject({
  test: {
    name: 'mqtt-cluster',
    include: ['cluster/**/*.test.ts'],
    hookTimeout: 180_000,
    testTimeout: 180_000,
    fileParallelism: false,
  },
});
