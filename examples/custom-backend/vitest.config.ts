import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'custom-backend',
    include: ['test/**/*.test.ts'],
  },
});
