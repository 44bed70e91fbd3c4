import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'mqtt',
    include: ['test/**/*.test.ts'],
  },
});
