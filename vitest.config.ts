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
    // Workers are kept from file to file (each project's files in workers of their own): a fresh worker
    // per file imported the Apollo packages afresh each time, 199 s of collection in a 756 s run here;
    // kept, 47 s, and the whole run 660 s.
    poolOptions: { forks: { maxForks: 2, minForks: 1, isolate: false } },
    // `npm test` runs all three; `npx vitest run --project unit` runs the fast in-process tests alone.
    projects: [
      // Unit files share their worker's module graph too (the unit project alone: 124 s → 50 s): they start
      // no processes and leave no globals behind (each closes what it starts).
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], poolOptions: { forks: { isolate: false } } } },
      { extends: true, test: { name: 'integration', include: ['test/integration/**/*.test.ts'], poolOptions: { forks: { isolate: true } } } },
      { extends: true, test: { name: 'chaos', include: ['test/chaos/**/*.test.ts'], poolOptions: { forks: { isolate: true } } } },
    ],
  },
});
