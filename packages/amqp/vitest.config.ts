import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'amqp',
    include: ['test/**/*.test.ts'],
    exclude: ['test/**/*.disruptive.test.ts'],
  },
});
