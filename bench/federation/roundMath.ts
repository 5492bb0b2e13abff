import { median } from '../measureLoad.ts';

/** What one measurement of one target gave: the load generator's counts and the target's CPU. */
export interface RoundSample {
  requests: number;
  failures: number;
  /** Wall time of the measurement, ms. */
  wallMs: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU the target's processes used during it (user + system, every process of the target), ms. */
  cpuMs: number;
  /** Requests the subgraphs received during it. */
  subgraphRequests: number;
  /** CPU the subgraphs and the load generator used during it, ms (they share the other core). @default 0 */
  helperCpuMs?: number;
}

/** One target's medians over its rounds (each figure the median of that figure per round). */
export interface TargetSummary {
  rounds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  cpuMsPerRequest: number;
  /** The headline: requests served per second of the target's CPU. */
  requestsPerCpuSecond: number;
  /** CPU the target kept busy, in cores (1 = the one core it is pinned to, saturated). */
  coresUsed: number;
  /** Subgraph fetches per request: equal across targets unless one deduplicates or caches. */
  fetchesPerRequest: number;
  /** CPU the subgraphs and load generator kept busy, in cores: near 1, their core, not the target, set the pace. */
  helperCoresUsed: number;
  failures: number;
}

export function summariseRounds(samples: readonly RoundSample[]): TargetSummary {
  const of = (f: (s: RoundSample) => number) => median(samples.map(f));
  return {
    rounds: samples.length,
    requestsPerSecond: of((s) => (s.requests * 1000) / s.wallMs),
    p50Ms: of((s) => s.p50Ms),
    p99Ms: of((s) => s.p99Ms),
    cpuMsPerRequest: of((s) => s.cpuMs / s.requests),
    requestsPerCpuSecond: of((s) => (s.requests * 1000) / s.cpuMs),
    coresUsed: of((s) => s.cpuMs / s.wallMs),
    fetchesPerRequest: of((s) => s.subgraphRequests / s.requests),
    helperCoresUsed: of((s) => (s.helperCpuMs ?? 0) / s.wallMs),
    failures: samples.reduce((n, s) => n + s.failures, 0),
  };
}

/** A target against the baseline: above 1 is better for every ratio (latency and CPU are inverted). */
export interface Ratios {
  requestsPerCpuSecond: number;
  requestsPerSecond: number;
  /** Baseline CPU per request ÷ this target's: how many times less CPU it spends. */
  cpuPerRequest: number;
  /** Baseline p50 ÷ this target's. */
  p50: number;
}

export function ratiosAgainst(target: TargetSummary, baseline: TargetSummary): Ratios {
  return {
    requestsPerCpuSecond: target.requestsPerCpuSecond / baseline.requestsPerCpuSecond,
    requestsPerSecond: target.requestsPerSecond / baseline.requestsPerSecond,
    cpuPerRequest: baseline.cpuMsPerRequest / target.cpuMsPerRequest,
    p50: baseline.p50Ms / target.p50Ms,
  };
}
