import { loadavg } from 'node:os';
import { BENCH_SHAPES, type ShapeKey } from './benchShapes.ts';
import { FEDERATION, type TargetKey } from './federationSettings.ts';
import { printLegend, printPhase, printTargets, type PhaseSummaries } from './printFederationTable.ts';
import { ProcessCpu } from './processCpu.ts';
import { residentMb } from './processMemory.ts';
import { summariseRounds, type RoundSample } from './roundMath.ts';
import { startFederationBench, type FederationBench, type Target } from './startTargets.ts';

// `npm run bench` (federation part): stock Apollo Server + Gateway, Hive Gateway (on its JS planner and
// on the Rust router-runtime), our gateway, and our router + gateway on the same supergraph and the same
// subgraph processes, once per query shape (the demo's, and The Guild gateways benchmark's TestQuery),
// each shape a run of its own with fresh processes. Every target is pinned
// to one core, subgraphs and load generator to the other. Rounds interleave the targets so machine
// noise hits all alike; the tables print medians of rounds. CPU is each target's processes' own
// utime + stime, so `req/CPU-s` holds even when the shared machine keeps a target from its whole core.
const S = FEDERATION;

async function sample(bench: FederationBench, body: string, target: Target, cpu: ProcessCpu, helperCpu: ProcessCpu, concurrency: number, durationMs: number): Promise<RoundSample> {
  const fetchesBefore = await bench.subgraphRequests();
  const [cpuBefore, helperBefore] = [cpu.readMs(), helperCpu.readMs()];
  const t0 = performance.now();
  const result = await bench.measure({ url: target.url, body, signed: target.signed, concurrency, durationMs });
  const wallMs = performance.now() - t0;
  const [cpuMs, helperCpuMs] = [cpu.readMs() - cpuBefore, helperCpu.readMs() - helperBefore];
  const subgraphRequests = (await bench.subgraphRequests()) - fetchesBefore;
  return { requests: result.requests, failures: result.failures, wallMs, p50Ms: result.p50Ms, p99Ms: result.p99Ms, cpuMs, subgraphRequests, helperCpuMs };
}

/** One shape's whole run: warm-up, interleaved rounds (loaded, then one in flight), memory after each loaded measurement. */
async function runShape(shapeKey: ShapeKey): Promise<void> {
  const shape = BENCH_SHAPES[shapeKey];
  const body = JSON.stringify({ query: shape.query });
  const bench = await startFederationBench({ targets: S.targets, targetCpu: S.targetCpu, loadCpu: S.loadCpu, nodeEnv: S.nodeEnv, shape: shapeKey });
  const helperCpu = new ProcessCpu(bench.helpers.map((p) => p.pid));
  const loaded: Partial<Record<TargetKey, RoundSample[]>> = {};
  const oneInFlight: Partial<Record<TargetKey, RoundSample[]>> = {};
  // Resident memory of each target's processes right after each loaded measurement; the table prints the largest.
  const memoryMb: Partial<Record<TargetKey, number>> = {};
  const loads: number[] = [];
  try {
    const cpus = new Map(bench.targets.map((t) => [t.key, new ProcessCpu(t.processes.map((p) => p.pid))]));
    for (const target of bench.targets) {
      await bench.measure({ url: target.url, body, signed: target.signed, concurrency: S.concurrency, durationMs: S.warmupMs });
    }
    for (let round = 0; round < S.rounds; round++) {
      loads.push(loadavg()[0]);
      for (const target of bench.targets) {
        (loaded[target.key] ??= []).push(await sample(bench, body, target, cpus.get(target.key)!, helperCpu, S.concurrency, S.durationMs));
        memoryMb[target.key] = Math.max(memoryMb[target.key] ?? 0, residentMb(target.processes.map((p) => p.pid)));
      }
      // One in flight, the targets taking turns request by request: latencies on a shared machine compare
      // only when every target sees the same moments of it. Each target's processes are its own, so /proc
      // still tells its CPU; its wall time is the time spent waiting for its answers.
      const before = new Map(bench.targets.map((t) => [t.key, cpus.get(t.key)!.readMs()]));
      const turns = await bench.alternate({ targets: Object.fromEntries(bench.targets.map((t) => [t.key, { url: t.url, body, signed: t.signed }])), durationMs: S.latencyDurationMs * bench.targets.length });
      for (const target of bench.targets) {
        const turn = turns[target.key];
        const cpuMs = cpus.get(target.key)!.readMs() - before.get(target.key)!;
        (oneInFlight[target.key] ??= []).push({ ...turn, wallMs: turn.busyMs, cpuMs, subgraphRequests: Number.NaN, helperCpuMs: Number.NaN });
      }
    }
    loads.push(loadavg()[0]);
  } finally {
    await bench.close();
  }

  const summaries = (samples: Partial<Record<TargetKey, RoundSample[]>>) =>
    Object.fromEntries(Object.entries(samples).map(([key, list]) => [key, summariseRounds(list!)])) as PhaseSummaries;
  const [loadedSummary, oneInFlightSummary] = [summaries(loaded), summaries(oneInFlight)];

  console.log(
    `\nfederation gateways — ${shape.title}; targets on cpu ${S.targetCpu}, subgraphs + load on cpu ${S.loadCpu}; ` +
      `NODE_ENV=${S.nodeEnv}; ${S.rounds} rounds interleaved, medians; load average (1 min) during the run ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`,
  );
  printLegend();
  printPhase(`loaded: ${S.concurrency} in flight, ${S.durationMs} ms per round`, loadedSummary, memoryMb);
  printPhase(`one in flight, targets taking turns request by request: ${S.latencyDurationMs} ms per target per round (req/s = 1 ÷ mean latency)`, oneInFlightSummary);
  printTargets(shape.key, loadedSummary, oneInFlightSummary, memoryMb);
}

for (const shape of S.shapes) await runShape(shape);
