import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'nestjs',
    include: ['test/**/*.test.ts'],
  },
});
