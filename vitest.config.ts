import { defineConfig } from 'vitest/config';

// One project per package. Tests that disturb a broker (restart it, kill it, close its connections, raise its
// alarms) do it to throwaway brokers of their own (@mq/testkit's startRabbitNode / startMosquitto), never to
// the brokers under test, so every project runs in parallel.
const DELIBERATE_ESCAPE = '[broken backend: deliberately unhandled]';

// Every test worker inherits this: an illegal status transition in BaseConnection or BaseQueue throws (it is
// silently ignored in production).
process.env.MQ_STRICT_STATUS ??= '1';

export default defineConfig({
  test: {
    // The tests wait on brokers and timers far more than they compute: on a 2-core machine vitest's default (one
    // worker) runs every file one after another. Four at a time keeps the suite short; files that must not
    // overlap say so in their project (fileParallelism: false).
    maxWorkers: 4,
    // packages/testkit/test proves that the contract fails a backend whose errors escape to the process: those
    // deliberate escapes, and only those, are not errors of the run.
    onUnhandledError: (error) => (String(error.message).includes(DELIBERATE_ESCAPE) ? false : undefined),
    projects: [
      'packages/*/vitest.config.ts',
      'examples/*/vitest.config.ts',
      'bench/vitest.config.ts',
      'security/vitest.config.ts',
    ],
  },
});
