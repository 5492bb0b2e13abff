import { loadavg } from 'node:os';
import { launchScratchStack } from '../scripts/launchScratchStack.ts';
import { BENCH } from './benchSettings.ts';
import { PRINCIPAL_HEADER, signPrincipal } from '../lib/principal.ts';
import { measureAlternating } from './measureAlternating.ts';
import { measureLoad, type LoadTarget } from './measureLoad.ts';
import { ProcessCpu } from './federation/processCpu.ts';
import { summariseRounds, type RoundSample, type TargetSummary } from './federation/roundMath.ts';

// `npm run bench` (first part): router overhead on the reference stack. The same one-supergraph query
// through the router and straight to its gateway, and a two-supergraph query through the router and as
// its two parts sent to both gateways in parallel, interleaved over several rounds so machine noise hits
// all alike: loaded (BENCH_CONCURRENCY in flight, a window per scenario), and at one request in flight
// with the scenarios taking turns request by request (bench/measureAlternating.ts). CPU per request, from
// the loaded phase, counts every process a scenario goes through (router and gateways; the subgraphs
// are the same for both sides).
// Medians of the rounds, and the ratios issue 9's targets name.
const { rounds: ROUNDS, durationMs: DURATION_MS, concurrency: CONCURRENCY, demoApiKey: KEY } = BENCH;
const LATENCY_MS = Number(process.env.BENCH_FED_LATENCY_MS ?? DURATION_MS / 2);

const stack = await launchScratchStack({
  demoApiKey: KEY,
  // The fresh response cache is off: this measures the routing work, not cache hits.
  env: { RESPONSE_CACHE: 'off' },
});
const commerceUrl = `http://127.0.0.1:${stack.get('gateway-commerce').port}/graphql`;
const oneSupergraph = JSON.stringify({ query: '{ articles(first: 5) { edges { node { id title price } } } }' });
const twoSupergraphs = JSON.stringify({
  query: '{ me { id name plan } articles(first: 5) { edges { node { id title price } } } }',
});
const authHeaders = { authorization: `Bearer ${KEY}` };

const identityUrl = `http://127.0.0.1:${stack.get('gateway-identity').port}/graphql`;
// What the router itself sends: the signed principal of the demo user for the two-supergraph query
// (both parts in parallel), the signed anonymous marker otherwise; gateways answer nothing else.
// Signed afresh per request, as the router does (tokens live 30 s).
const asDemoUser = () => ({ [PRINCIPAL_HEADER]: signPrincipal({ userId: 'u1', scopes: [] }, stack.env.INTERNAL_SECRET) });
const asAnonymous = () => ({ [PRINCIPAL_HEADER]: signPrincipal({ scopes: [] }, stack.env.INTERNAL_SECRET) });
const meOnly = JSON.stringify({ query: '{ me { id name plan } }' });
const pids = (...names: string[]) => new ProcessCpu(names.map((name) => stack.get(name).pid!));

const scenarios: Record<string, LoadTarget & { also?: LoadTarget[]; cpu: ProcessCpu }> = {
  'gateway direct (1 supergraph)': { url: commerceUrl, body: oneSupergraph, headers: asAnonymous, cpu: pids('gateway-commerce') },
  'router (1 supergraph)': { url: stack.routerUrl, body: oneSupergraph, headers: {}, cpu: pids('router', 'gateway-commerce') },
  'gateways direct (2, parallel)': {
    url: identityUrl,
    body: meOnly,
    headers: asDemoUser,
    also: [{ url: commerceUrl, body: oneSupergraph, headers: asDemoUser }],
    cpu: pids('gateway-identity', 'gateway-commerce'),
  },
  'router (2 supergraphs)': { url: stack.routerUrl, body: twoSupergraphs, headers: authHeaders, cpu: pids('router', 'gateway-identity', 'gateway-commerce') },
};
const names = Object.keys(scenarios);
const loaded = Object.fromEntries(names.map((k) => [k, [] as RoundSample[]]));
const oneInFlight = Object.fromEntries(names.map((k) => [k, [] as RoundSample[]]));
const loads: number[] = [];

async function sample(name: string, concurrency: number, durationMs: number): Promise<RoundSample> {
  const { cpu, ...scenario } = scenarios[name];
  const cpuBefore = cpu.readMs();
  const t0 = performance.now();
  const result = await measureLoad({ ...scenario, concurrency, durationMs });
  const wallMs = performance.now() - t0;
  return { requests: result.requests, failures: result.failures, wallMs, p50Ms: result.p50Ms, p99Ms: result.p99Ms, cpuMs: cpu.readMs() - cpuBefore, subgraphRequests: 0 };
}

try {
  for (const scenario of Object.values(scenarios)) {
    await measureLoad({ ...scenario, concurrency: CONCURRENCY, durationMs: 1_000 }); // warm-up
  }
  for (let round = 0; round < ROUNDS; round++) {
    loads.push(loadavg()[0]);
    for (const name of names) loaded[name].push(await sample(name, CONCURRENCY, DURATION_MS));
    const turns = await measureAlternating(scenarios, { durationMs: LATENCY_MS * names.length });
    // Scenarios share processes here, so CPU is the loaded phase's alone.
    for (const name of names) oneInFlight[name].push({ ...turns[name], wallMs: turns[name].busyMs, cpuMs: Number.NaN, subgraphRequests: 0 });
  }
  loads.push(loadavg()[0]);
} finally {
  await stack.dispose();
}

type Summaries = Record<string, TargetSummary>;
const summarise = (samples: Record<string, RoundSample[]>) => Object.fromEntries(names.map((name) => [name, summariseRounds(samples[name])])) as Summaries;
const [load, single] = [summarise(loaded), summarise(oneInFlight)];

console.log(
  `\nrouter overhead (reference stack) — ${ROUNDS} rounds interleaved, medians; load average (1 min) during the run ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`,
);
for (const [title, summary] of [
  [`loaded: ${CONCURRENCY} in flight, ${DURATION_MS} ms per round`, load],
  [`one in flight, scenarios taking turns request by request: ${LATENCY_MS} ms per scenario per round`, single],
] as const) {
  console.log(`\n${title}`);
  console.log('scenario                          req/s    p50 ms   p99 ms  CPU ms/req  failures');
  for (const [name, s] of Object.entries(summary)) {
    console.log(
      `${name.padEnd(32)} ${s.requestsPerSecond.toFixed(0).padStart(6)}  ${s.p50Ms.toFixed(2).padStart(7)}  ${s.p99Ms.toFixed(2).padStart(7)}  ${(Number.isFinite(s.cpuMsPerRequest) ? s.cpuMsPerRequest.toFixed(3) : '—').padStart(10)}  ${String(s.failures).padStart(8)}`,
    );
  }
}
const ratio = (router: string, direct: string, label: string) => {
  const [r, d] = [load[router], load[direct]];
  console.log(`  ${label}: throughput ${(r.requestsPerSecond / d.requestsPerSecond).toFixed(2)}×, p50 ${(r.p50Ms / d.p50Ms).toFixed(2)}×, p99 ${(r.p99Ms / d.p99Ms).toFixed(2)}×`);
};
console.log('\nratios, loaded (router ÷ the same work sent straight to the gateways)');
ratio('router (1 supergraph)', 'gateway direct (1 supergraph)', '1 supergraph ');
ratio('router (2 supergraphs)', 'gateways direct (2, parallel)', '2 supergraphs');
console.log('ratio (2 supergraphs through the router ÷ 1 supergraph straight to its gateway)');
ratio('router (2 supergraphs)', 'gateway direct (1 supergraph)', '2 vs 1       ');

const cpuRatio = load['router (1 supergraph)'].cpuMsPerRequest / load['gateway direct (1 supergraph)'].cpuMsPerRequest;
const added1 = single['router (1 supergraph)'].p50Ms - single['gateway direct (1 supergraph)'].p50Ms;
const added2 = single['router (2 supergraphs)'].p50Ms - single['gateways direct (2, parallel)'].p50Ms;
const signed = (ms: number) => `${ms >= 0 ? '+' : ''}${ms.toFixed(2)} ms`;
// A run with failed requests meets no target: its figures count work that was not done.
const failed = [...Object.values(load), ...Object.values(single)].some((s) => s.failures > 0);
console.log('\ntargets of issue 9 (reference stack)');
for (const [name, value, met] of [
  ['1 supergraph: router + gateway CPU/req ≤ 1.10× gateway alone', `${cpuRatio.toFixed(2)}×`, cpuRatio <= 1.1],
  ['1 supergraph: router CPU ÷ gateway CPU ≤ 0.15× (issue 18)', `${(cpuRatio - 1).toFixed(2)}×`, cpuRatio - 1 <= 0.15],
  ['1 supergraph: router adds ≤ 0.5 ms p50 at one in flight', signed(added1), added1 <= 0.5],
  ['2 supergraphs: ≤ slower gateway + 0.5 ms p50 at one in flight', signed(added2), added2 <= 0.5],
] as const) {
  console.log(`  ${name.padEnd(62)} ${value.padStart(10)}  ${met ? 'met' : 'NOT met'}`);
}
