import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'amqp',
    include: ['test/**/*.test.ts'],
    exclude: ['test/**/*.disruptive.test.ts'],
    // Some files force-close their own connections on the shared broker: run them one at a time.
    fileParallelism: false,
  },
});
