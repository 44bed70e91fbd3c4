import { defineConfig } from 'vitest/config';

// One project per package. Test files named *.disruptive.test.ts disturb a broker (close connections, restart
// it): they form their own project, which runs after every other project, one file at a time.
export default defineConfig({
  test: {
    // The tests wait on brokers and timers far more than they compute: on a 2-core machine vitest's default (one
    // worker) runs every file one after another. Four at a time keeps the suite short; files that must not
    // overlap say so in their project (fileParallelism: false).
    maxWorkers: 4,
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
