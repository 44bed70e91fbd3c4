import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'snippets',
    include: ['test/**/*.test.ts'],
    // Each run spawns a snippet in a Node process of its own (tsx): seconds on a busy 2-core machine.
    testTimeout: 30_000,
  },
});
