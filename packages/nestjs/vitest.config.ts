import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'nestjs',
    include: ['test/**/*.test.ts'],
    // Whole Nest applications on real brokers: starting one and waiting for retries takes seconds.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
