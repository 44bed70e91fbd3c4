import { defineConfig } from 'vitest/config';

// One project per package. Test files named *.disruptive.test.ts disturb a broker (close connections, restart
// it): they form their own project, which runs after every other project, one file at a time.
export default defineConfig({
  test: {
    projects: [
      'packages/*/vitest.config.ts',
      'examples/*/vitest.config.ts',
      'bench/vitest.config.ts',
      {
        test: {
          name: 'disruptive',
          include: ['packages/*/test/**/*.disruptive.test.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
