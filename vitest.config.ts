import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Node resolves `graphql` to its CommonJS build (no "exports" map), and so do the Apollo packages;
    // vite would pick the ESM build for our files, and graphql-js refuses objects from two realms.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    testTimeout: 30_000,
    // Routers in tests record no operations into the developer's data/ (schema:check would replay them);
    // the tests of the record turn it on with a file of their own.
    env: { RECORD_OPERATIONS: 'off' },
    hookTimeout: 120_000,
    pool: 'forks',
    // Integration files each start a whole stack of processes; on a 2-core machine two at once is the most.
    // Each file in a fresh worker: kept workers (isolate: false) took the run from 756 s to 660 s here, but
    // ran each project's files apart, so chaos files only ever ran beside other chaos files, and two of
    // their fault scenarios missed their marks in a CI run; mixed with unit files they have passed.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    // `npm test` runs all three; `npx vitest run --project unit` runs the fast in-process tests alone.
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'integration', include: ['test/integration/**/*.test.ts'] } },
      { extends: true, test: { name: 'chaos', include: ['test/chaos/**/*.test.ts'] } },
    ],
  },
});
