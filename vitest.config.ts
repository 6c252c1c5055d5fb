import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Two cores here and in CI: integration suites start servers, so keep parallelism modest.
    maxWorkers: 2,
    // Custom matchers (toHoldExactly) for every test file.
    setupFiles: ['test/support/matchers.ts'],
    // Test output is test results: the handlers run in-process log nothing and emit no EMF metrics.
    // A test that reads logs or metrics turns them on itself (a child process gets its own environment).
    env: {
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    },
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/global-stack.ts'],
        },
      },
    ],
  },
});
