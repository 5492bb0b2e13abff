import { BENCH } from '../benchSettings.ts';

import type { ShapeKey } from './benchShapes.ts';

export type TargetKey = 'a' | 'b' | 'c' | 'd' | 'e' | 'f';

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
  /**
   * Which targets run, e.g. `a,c`; `e` (a bare forwarding proxy + our gateway, the floor for (d)) is
   * opt-in; `f` is Hive Gateway on @graphql-hive/router-runtime, the anchor to beat. @default a,b,c,d,f
   */
  targets: (process.env.BENCH_FED_TARGETS ?? 'a,b,c,d,f').split(',').map((t) => t.trim()) as TargetKey[],
  /** Which query shapes run, each with its own subgraphs and all targets: `demo` and The Guild's `guild`. @default demo,guild */
  shapes: (process.env.BENCH_FED_SHAPES ?? 'demo,guild').split(',').map((t) => t.trim()) as ShapeKey[],
  /** The core every target is pinned to. */
  targetCpu: Number(process.env.BENCH_FED_TARGET_CPU ?? 0),
  /** The core the subgraphs and the load generator share. */
  loadCpu: Number(process.env.BENCH_FED_LOAD_CPU ?? 1),
  /** NODE_ENV of every target alike. */
  nodeEnv: process.env.BENCH_FED_NODE_ENV ?? 'production',
};
