import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'snippets',
    include: ['test/**/*.test.ts'],
  },
});
