import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Real peers (sipp, SMSCs, PostgreSQL) make tests I/O bound; two cores are the budget.
    maxWorkers: 2,
  },
});
