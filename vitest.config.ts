import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Integration files each start a whole stack of processes; on a 2-core machine two at once is the most.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
