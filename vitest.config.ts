import { defineConfig } from 'vitest/config';

// Two projects: `unit` (fast, fakes allowed) and `integration` (real Kafka,
// InfluxDB, Alertmanager and Chromium, started by `wsn-watch services up`).
export default defineConfig({
  test: {
    // Every test file runs on the TensorFlow.js backend the configuration
    // selects (WSN_BACKEND; scripts/test-all.sh forces the native one) and logs
    // its name, so a run shows which backend it tested.
    setupFiles: ['test/unit/model/backend/suite-setup.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // Integration suites share one broker and one database: run files
          // one after another so topic and database state stay predictable.
          fileParallelism: false,
        },
      },
    ],
  },
});
