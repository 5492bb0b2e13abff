import { BENCH } from '../benchSettings.ts';

export type TargetKey = 'a' | 'b' | 'c' | 'd' | 'e';

/** Knobs of the federation benchmark, from the environment (shared ones from bench/benchSettings.ts). */
export const FEDERATION = {
  rounds: BENCH.rounds,
  /** Each loaded measurement, ms (BENCH_DURATION_MS). */
  durationMs: BENCH.durationMs,
  /** Requests in flight in the loaded phase (BENCH_CONCURRENCY). */
  concurrency: BENCH.concurrency,
  /** Each one-in-flight measurement, ms. @default half of BENCH_DURATION_MS */
  latencyDurationMs: Number(process.env.BENCH_FED_LATENCY_MS ?? BENCH.durationMs / 2),
  /** Warm-up per target before the first round, ms (JIT, connection pools, plan caches). */
  warmupMs: Number(process.env.BENCH_FED_WARMUP_MS ?? 3_000),
  /** Which targets run, e.g. `a,c`; `e` (a bare forwarding proxy + our gateway, the floor for (d)) is opt-in. @default a,b,c,d */
  targets: (process.env.BENCH_FED_TARGETS ?? 'a,b,c,d').split(',').map((t) => t.trim()) as TargetKey[],
  /** The core every target is pinned to. */
  targetCpu: Number(process.env.BENCH_FED_TARGET_CPU ?? 0),
  /** The core the subgraphs and the load generator share. */
  loadCpu: Number(process.env.BENCH_FED_LOAD_CPU ?? 1),
  /** NODE_ENV of every target alike. */
  nodeEnv: process.env.BENCH_FED_NODE_ENV ?? 'production',
};
