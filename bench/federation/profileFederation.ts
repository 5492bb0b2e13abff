import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_SHAPES } from './benchShapes.ts';
import { FEDERATION } from './federationSettings.ts';
import { ProcessCpu } from './processCpu.ts';
import { startFederationBench } from './startTargets.ts';
import { callersOf, sourceResolver, summariseCpuProfile, type CpuProfile } from './summariseCpuProfile.ts';

// `node --import tsx bench/federation/profileFederation.ts`: the federation benchmark's targets under
// `node --cpu-prof`, each loaded in turn (BENCH_CONCURRENCY in flight for BENCH_FED_PROFILE_MS), then
// each process's profile summarised over its loaded window only: self time by package and by function,
// and our functions' inclusive time. Profiles stay in BENCH_FED_PROFILE_DIR (a temp folder by default)
// for Chrome DevTools or speedscope. Not part of `npm run bench`: profiling slows what it watches.
// The query shape is the first of BENCH_FED_SHAPES (e.g. `BENCH_FED_SHAPES=guild`).
const S = FEDERATION;
const shape = BENCH_SHAPES[S.shapes[0]];
const dir = process.env.BENCH_FED_PROFILE_DIR ?? mkdtempSync(join(tmpdir(), 'federation-profiles-'));
const durationMs = Number(process.env.BENCH_FED_PROFILE_MS ?? 15_000);
const top = Number(process.env.BENCH_FED_PROFILE_TOP ?? 25);
/** Functions whose callers to show, e.g. `DOMException,createAbortSignal`. */
const callers = (process.env.BENCH_FED_PROFILE_CALLERS ?? '').split(',').filter(Boolean);
const body = JSON.stringify({ query: shape.query });
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

const bench = await startFederationBench({ targets: S.targets, targetCpu: S.targetCpu, loadCpu: S.loadCpu, nodeEnv: S.nodeEnv, cpuProfDir: dir, shape: shape.key });
/** Per target: its loaded window on the monotonic clock, its requests, and each process's CPU from /proc. */
const windows = new Map<string, { fromUs: number; toUs: number; requests: number; cpuMs: number[] }>();
try {
  for (const target of bench.targets) {
    await bench.measure({ url: target.url, body, signed: target.signed, concurrency: S.concurrency, durationMs: S.warmupMs });
    const cpus = target.processes.map((p) => new ProcessCpu([p.pid]));
    const [fromUs, before] = [nowUs(), cpus.map((cpu) => cpu.readMs())];
    const result = await bench.measure({ url: target.url, body, signed: target.signed, concurrency: S.concurrency, durationMs });
    windows.set(target.key, { fromUs, toUs: nowUs(), requests: result.requests, cpuMs: cpus.map((cpu, i) => cpu.readMs() - before[i]) });
  }
} finally {
  await bench.close();
}

/** The main thread's profile: the largest in the process's folder (any worker thread writes one too). */
function mainProfile(name: string): CpuProfile {
  const folder = join(dir, name);
  const [largest] = readdirSync(folder)
    .map((file) => join(folder, file))
    .sort((a, b) => statSync(b).size - statSync(a).size);
  return JSON.parse(readFileSync(largest, 'utf8')) as CpuProfile;
}

const where = sourceResolver();
const pct = (ms: number, total: number) => `${((100 * ms) / total).toFixed(1).padStart(5)}%`;
console.log(`\nCPU profiles (node --cpu-prof) of each target on the ${shape.key} shape under ${S.concurrency} in flight, ${durationMs} ms; files in ${dir}`);
// Sample weights are wall-clock intervals (a process waiting for the core still gets sampled), so the
// profile gives shares, and the process's CPU from /proc turns them into ms per request.
for (const target of bench.targets) {
  const window = windows.get(target.key)!;
  const total = window.cpuMs.reduce((a, b) => a + b, 0);
  console.log(`\n═══ ${target.label}: ${window.requests} requests, ${(total / window.requests).toFixed(3)} CPU ms/request (all its processes, profiler on)`);
  target.processes.forEach((process, i) => {
    const profile = mainProfile(process.name);
    const summary = summariseCpuProfile(profile, window, where);
    const perRequest = window.cpuMs[i] / window.requests;
    const ms = (sampled: number) => ((sampled / summary.totalMs) * perRequest).toFixed(3).padStart(7);
    console.log(`\n── ${process.name}: ${perRequest.toFixed(3)} CPU ms/request (/proc), ${summary.totalMs.toFixed(0)} ms of non-idle samples`);
    console.log('   self time by package');
    for (const g of summary.byGroup.slice(0, 14)) console.log(`   ${pct(g.ms, summary.totalMs)}  ${ms(g.ms)} ms/req  ${g.name}`);
    console.log(`   top ${top} functions by self time`);
    for (const f of summary.bySelf.slice(0, top)) console.log(`   ${pct(f.ms, summary.totalMs)}  ${f.name.slice(0, 40).padEnd(40)} ${f.group.slice(0, 28).padEnd(28)} ${f.where}`);
    if (summary.oursInclusive.length > 0) {
      console.log('   our functions by inclusive time (what runs under them, all packages)');
      for (const f of summary.oursInclusive.slice(0, 20)) console.log(`   ${pct(f.ms, summary.totalMs)}  ${f.name.slice(0, 40).padEnd(40)} ${f.where}`);
    }
    for (const name of callers) {
      console.log(`   callers of ${name}`);
      for (const c of callersOf(profile, name, window, 6, where).slice(0, 5)) console.log(`   ${pct(c.ms, summary.totalMs)}  ${c.path.join('\n             ← ')}`);
    }
  });
}
