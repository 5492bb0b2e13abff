import { ratiosAgainst, type TargetSummary } from './roundMath.ts';
import type { TargetKey } from './federationSettings.ts';
import { TARGET_LABELS } from './startTargets.ts';

export type PhaseSummaries = Partial<Record<TargetKey, TargetSummary>>;
/** Largest resident memory of each target's processes (all of them, summed), MB. */
export type MemorySummaries = Partial<Record<TargetKey, number>>;

const num = (value: number, digits: number, width: number) => (Number.isFinite(value) ? value.toFixed(digits) : '—').padStart(width);
const times = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? '—' : `${value.toFixed(2)}×`).padStart(7);

/** One phase's table: absolute figures per target, then ratios against (a) (above 1 is better). */
export function printPhase(title: string, phase: PhaseSummaries, memory?: MemorySummaries): void {
  const baseline = phase.a;
  console.log(`\n${title}`);
  console.log(
    `${'target'.padEnd(42)}  req/s  p50 ms  p99 ms  CPU ms/req  req/CPU-s  cores other  fetches/req  fail${memory ? '  RSS MB' : ''} │ ×(a) req/CPU-s  req/s  less CPU  p50`,
  );
  for (const [key, s] of Object.entries(phase) as Array<[TargetKey, TargetSummary]>) {
    const r = baseline ? ratiosAgainst(s, baseline) : undefined;
    console.log(
      `${TARGET_LABELS[key].padEnd(42)}${num(s.requestsPerSecond, 0, 7)}${num(s.p50Ms, 2, 8)}${num(s.p99Ms, 2, 8)}${num(s.cpuMsPerRequest, 3, 12)}${num(s.requestsPerCpuSecond, 0, 11)}${num(s.coresUsed, 2, 7)}${num(s.helperCoresUsed, 2, 6)}${num(s.fetchesPerRequest, 2, 13)}${String(s.failures).padStart(6)}${memory ? num(memory[key] ?? Number.NaN, 0, 8) : ''} │${times(r?.requestsPerCpuSecond).padStart(15)}${times(r?.requestsPerSecond)}${times(r?.cpuPerRequest).padStart(10)}${times(r?.p50)}`,
    );
  }
}

/** What the columns mean, printed once. */
export function printLegend(): void {
  console.log(
    [
      'cores: CPU the target\'s processes used, in cores (1 = its pinned core saturated; less when the shared machine kept it waiting)',
      'other: CPU of the subgraphs + load generator on the other core (near 1: they, not the target, set the pace)',
      'fetches/req: subgraph fetches per request, equal for all unless a target deduplicates or caches',
      'fail: failed requests (non-2xx, or an answer with errors); a target whose comparison involves one is NOT met',
      'RSS MB: resident memory of the target\'s processes after a loaded measurement, the largest seen',
      '×(a): ratio against (a), above 1 is better (less CPU, lower p50)',
    ].join('\n'),
  );
}

type Line = [name: string, value: string, met: boolean | undefined];

/**
 * The issue's targets that this benchmark decides, each with its measured ratio and whether it is met.
 * A comparison that involves a target with failed requests is never met: its figures count work that
 * was not done.
 */
export function printTargets(shape: string, loaded: PhaseSummaries, oneInFlight: PhaseSummaries, memory: MemorySummaries = {}): void {
  const failuresOf = (...keys: TargetKey[]) => keys.reduce((n, k) => n + (loaded[k]?.failures ?? 0) + (oneInFlight[k]?.failures ?? 0), 0);
  const judged = (met: boolean, ...keys: TargetKey[]): boolean => met && failuresOf(...keys) === 0;
  const lines: Line[] = [];
  const { a, b, c, d, f } = loaded;
  const ratio = (x: TargetSummary, y: TargetSummary) => x.requestsPerCpuSecond / y.requestsPerCpuSecond;
  if (a && c) lines.push(['(c) gateway alone req/CPU-s ≥ 4× (a)', `${ratio(c, a).toFixed(2)}×`, judged(ratio(c, a) >= 4, 'a', 'c')]);
  if (a && d) lines.push(['(d) router + gateway req/CPU-s ≥ 3× (a)', `${ratio(d, a).toFixed(2)}×`, judged(ratio(d, a) >= 3, 'a', 'd')]);
  const [a1, c1, d1] = [oneInFlight.a, oneInFlight.c, oneInFlight.d];
  if (a1 && c1) lines.push(['(c) p50 at one in flight ≤ ½ (a)', `${(c1.p50Ms / a1.p50Ms).toFixed(2)}×`, judged(c1.p50Ms <= a1.p50Ms / 2, 'a', 'c')]);
  if (a1 && d1) lines.push(['(d) p50 at one in flight ≤ ½ (a)', `${(d1.p50Ms / a1.p50Ms).toFixed(2)}×`, judged(d1.p50Ms <= a1.p50Ms / 2, 'a', 'd')]);
  for (const key of ['c', 'd'] as const) {
    const [ours, stock] = [memory[key], memory.a];
    if (ours !== undefined && stock !== undefined) lines.push([`(${key}) memory ≤ (a)'s`, `${ours.toFixed(0)} / ${stock.toFixed(0)} MB`, judged(ours <= stock, 'a', key)]);
  }
  if (f && c) lines.push(['(c) req/CPU-s vs (f) Hive + router-runtime (anchor)', `${ratio(c, f).toFixed(2)}×`, judged(ratio(c, f) > 1, 'c', 'f')]);
  if (f && d) lines.push(['(d) req/CPU-s vs (f) Hive + router-runtime (anchor)', `${ratio(d, f).toFixed(2)}×`, judged(ratio(d, f) > 1, 'd', 'f')]);
  if (b && d) lines.push(['(d) req/CPU-s ahead of (b) Hive Gateway', `${ratio(d, b).toFixed(2)}×`, judged(ratio(d, b) > 1, 'b', 'd')]);
  if (c && d) {
    const r = d.cpuMsPerRequest / c.cpuMsPerRequest;
    lines.push(['router + gateway CPU/req ≤ 1.10× gateway alone', `${r.toFixed(2)}×`, judged(r <= 1.1, 'c', 'd')]);
  }
  if (c && loaded.e) lines.push(['(e) floor: bare proxy + gateway CPU/req ÷ gateway alone', `${(loaded.e.cpuMsPerRequest / c.cpuMsPerRequest).toFixed(2)}×`, undefined]);
  // Issue 18: what the router adds to the gateway's cost, against what a bare forwarding proxy adds.
  if (c && d && loaded.e) {
    const [router, proxy] = [d.cpuMsPerRequest - c.cpuMsPerRequest, loaded.e.cpuMsPerRequest - c.cpuMsPerRequest];
    lines.push([
      'router\'s added CPU/req ≤ 1.25× the bare proxy\'s',
      `${(router * 1000).toFixed(0)} / ${(proxy * 1000).toFixed(0)} µs (${(router / c.cpuMsPerRequest).toFixed(2)}× / ${(proxy / c.cpuMsPerRequest).toFixed(2)}× gw)`,
      judged(router <= 1.25 * Math.max(proxy, 0), 'c', 'd', 'e'),
    ]);
  }
  const e1 = oneInFlight.e;
  if (c1 && d1 && e1) {
    const [router, proxy] = [d1.p50Ms - c1.p50Ms, e1.p50Ms - c1.p50Ms];
    lines.push(['router\'s added p50 at one in flight ≤ the proxy\'s + 0.2 ms', `${router.toFixed(2)} / ${proxy.toFixed(2)} ms`, judged(router <= proxy + 0.2, 'c', 'd', 'e')]);
  }
  if (c1 && d1) {
    const added = d1.p50Ms - c1.p50Ms;
    lines.push(['router adds ≤ 0.5 ms p50 at one in flight', `${added >= 0 ? '+' : ''}${added.toFixed(2)} ms`, judged(added <= 0.5, 'c', 'd')]);
  }
  // Every target must do the same work: fewer fetches per request than the most would mean deduplication
  // or a response cache answering (our router's caches only @cacheControl PUBLIC data, which neither shape has).
  const most = Math.max(...Object.values(loaded).map((s) => s.fetchesPerRequest));
  for (const [key, s] of Object.entries(loaded)) {
    if (s.fetchesPerRequest < most * 0.99) {
      // Hive Gateway's planners (b, f) plan differently (they merge entity fetches of one subgraph at one
      // level), which is their own merit; for any other target, fewer fetches means it skipped work.
      const why = key === 'b' || key === 'f' ? 'its planner merges fetches that Apollo’s planner keeps apart' : 'it skipped work';
      console.log(`\nWARNING: (${key}) made ${s.fetchesPerRequest.toFixed(2)} subgraph fetches per request, others up to ${most.toFixed(2)}: ${why}`);
    }
  }
  const failed = (Object.keys({ ...loaded, ...oneInFlight }) as TargetKey[]).filter((k) => failuresOf(k) > 0);
  if (failed.length) console.log(`\nFAILED REQUESTS: ${failed.map((k) => `(${k}) ${failuresOf(k)}`).join(', ')}: every target comparing them is NOT met`);
  console.log(`\ntargets of issue 19 on the ${shape} shape (loaded phase for CPU and memory, one in flight for latency), then earlier ones`);
  for (const [name, value, met] of lines) console.log(`  ${name.padEnd(52)} ${value.padStart(16)}  ${met === undefined ? '' : met ? 'met' : 'NOT met'}`);
}
