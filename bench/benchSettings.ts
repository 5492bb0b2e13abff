/** Shared knobs of the benchmarks, from the environment so a quick run can shorten them. */
export const BENCH = {
  rounds: Number(process.env.BENCH_ROUNDS ?? 3),
  durationMs: Number(process.env.BENCH_DURATION_MS ?? 4_000),
  concurrency: Number(process.env.BENCH_CONCURRENCY ?? 16),
  demoApiKey: 'bench-demo-key-0123456789',
};
