import { ratiosAgainst, type TargetSummary } from './roundMath.ts';
import type { TargetKey } from './federationSettings.ts';
import { TARGET_LABELS } from './startTargets.ts';

export type PhaseSummaries = Partial<Record<TargetKey, TargetSummary>>;

const num = (value: number, digits: number, width: number) => (Number.isFinite(value) ? value.toFixed(digits) : '—').padStart(width);
const times = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? '—' : `${value.toFixed(2)}×`).padStart(7);

/** One phase's table: absolute figures per target, then ratios against (a) (above 1 is better). */
export function printPhase(title: string, phase: PhaseSummaries): void {
  const baseline = phase.a;
  console.log(`\n${title}`);
  console.log(
    `${'target'.padEnd(38)}  req/s  p50 ms  p99 ms  CPU ms/req  req/CPU-s  cores other  fetches/req  fail │ ×(a) req/CPU-s  req/s  less CPU  p50`,
  );
  for (const [key, s] of Object.entries(phase) as Array<[TargetKey, TargetSummary]>) {
    const r = baseline ? ratiosAgainst(s, baseline) : undefined;
    console.log(
      `${TARGET_LABELS[key].padEnd(38)}${num(s.requestsPerSecond, 0, 7)}${num(s.p50Ms, 2, 8)}${num(s.p99Ms, 2, 8)}${num(s.cpuMsPerRequest, 3, 12)}${num(s.requestsPerCpuSecond, 0, 11)}${num(s.coresUsed, 2, 7)}${num(s.helperCoresUsed, 2, 6)}${num(s.fetchesPerRequest, 2, 13)}${String(s.failures).padStart(6)} │${times(r?.requestsPerCpuSecond).padStart(15)}${times(r?.requestsPerSecond)}${times(r?.cpuPerRequest).padStart(10)}${times(r?.p50)}`,
    );
  }
}

/** The targets that this benchmark decides, each with its ratio and whether it is met. */
/** What the columns mean, printed once. */
export function printLegend(): void {
  console.log(
    [
      'cores: CPU the target\'s processes used, in cores (1 = its pinned core saturated; less when the shared machine kept it waiting)',
      'other: CPU of the subgraphs + load generator on the other core (near 1: they, not the target, set the pace)',
      'fetches/req: subgraph fetches per request, equal for all unless a target deduplicates or caches',
      '×(a): ratio against (a), above 1 is better (less CPU, lower p50)',
    ].join('\n'),
  );
}

export function printTargets(loaded: PhaseSummaries, oneInFlight: PhaseSummaries): void {
  const lines: Array<[string, string, boolean | undefined]> = [];
  const { a, b, c, d } = loaded;
  if (a && d) {
    const ratio = d.requestsPerCpuSecond / a.requestsPerCpuSecond;
    lines.push(['(d) req/CPU-s ≥ 2.4× (a)', `${ratio.toFixed(2)}×`, ratio >= 2.4]);
  }
  if (b && d) {
    const ratio = d.requestsPerCpuSecond / b.requestsPerCpuSecond;
    lines.push(['(d) req/CPU-s ahead of (b)', `${ratio.toFixed(2)}×`, ratio > 1]);
  }
  if (a && c) {
    const ratio = c.requestsPerCpuSecond / a.requestsPerCpuSecond;
    lines.push(['(c) req/CPU-s vs (a) (no target; context)', `${ratio.toFixed(2)}×`, undefined]);
  }
  if (c && d) {
    const ratio = d.cpuMsPerRequest / c.cpuMsPerRequest;
    lines.push(['router + gateway CPU/req ≤ 1.10× gateway alone', `${ratio.toFixed(2)}×`, ratio <= 1.1]);
  }
  if (c && loaded.e) {
    const ratio = loaded.e.cpuMsPerRequest / c.cpuMsPerRequest;
    lines.push(['(e) floor: bare proxy + gateway CPU/req ÷ gateway alone', `${ratio.toFixed(2)}×`, undefined]);
  }
  const [c1, d1] = [oneInFlight.c, oneInFlight.d];
  if (c1 && d1) {
    const added = d1.p50Ms - c1.p50Ms;
    lines.push(['router adds ≤ 0.5 ms p50 at one in flight', `${added >= 0 ? '+' : ''}${added.toFixed(2)} ms`, added <= 0.5]);
  }
  if (c1 && oneInFlight.e) {
    const added = oneInFlight.e.p50Ms - c1.p50Ms;
    lines.push(['(e) floor: bare proxy adds, p50 at one in flight', `${added >= 0 ? '+' : ''}${added.toFixed(2)} ms`, undefined]);
  }
  // Every target must do the same work: fewer fetches per request than the most would mean deduplication
  // or a response cache answering (our router's caches only @cacheControl PUBLIC data, which the demo lacks).
  const most = Math.max(...Object.values(loaded).map((s) => s.fetchesPerRequest));
  for (const [key, s] of Object.entries(loaded)) {
    if (s.fetchesPerRequest < most * 0.99) console.log(`\nWARNING: (${key}) made ${s.fetchesPerRequest.toFixed(2)} subgraph fetches per request, others up to ${most.toFixed(2)}: it skipped work`);
  }
  console.log('\ntargets of issue 9 (loaded phase for CPU, one in flight for latency)');
  for (const [name, value, met] of lines) console.log(`  ${name.padEnd(48)} ${value.padStart(10)}  ${met === undefined ? '' : met ? 'met' : 'NOT met'}`);
}
