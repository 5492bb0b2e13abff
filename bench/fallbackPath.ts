import { launchScratchStack } from '../scripts/launchScratchStack.ts';
import { BENCH } from './benchSettings.ts';
import { hedgingLoad } from './hedgingLoad.ts';
import { measureLoad, median, type LoadResult } from './measureLoad.ts';

// `npm run bench` (second part): the cost of the fallback path. The same operation (users + articles)
// with everything healthy, while one users replica hangs (SIGSTOP: hedges and adaptive deadlines at
// work), during the first seconds after every users replica is killed, and once the users breaker is
// open and `me` comes from the fallback cache. Healthy rounds run before and after the outage so drift
// on a shared machine shows up; medians and ratios are printed, and the extra subgraph calls hedging
// sent while nothing was wrong.
const { rounds: ROUNDS, durationMs: DURATION_MS, concurrency: CONCURRENCY, demoApiKey: KEY } = BENCH;

const stack = await launchScratchStack({
  demoApiKey: KEY,
  env: { LOG_LEVEL: 'error', HEALTH_CHECK_INTERVAL_MS: '500' },
});
const load = {
  url: stack.routerUrl,
  body: JSON.stringify({ query: '{ me { id name plan } articles(first: 3) { edges { node { id title } } } }' }),
  headers: { authorization: `Bearer ${KEY}` },
  concurrency: CONCURRENCY,
  // A fallback answer carries an error entry by design; count only answers without `me`.
  isFailure: (body: string) => !body.includes('"me":{'),
};
const gatewayState = async () =>
  // Operator endpoints live on the gateway's admin listener.
  (await fetch(`http://127.0.0.1:${stack.get('gateway-identity').adminPort}/internal/state`)).json() as Promise<{
    subgraphs: Record<string, { breaker: string }>;
  }>;

const phases: Record<string, LoadResult[]> = {
  healthy: [],
  'one users replica hung': [],
  'outage, first seconds': [],
  'breaker open (fallback)': [],
};
const hedging = hedgingLoad(stack);
let healthyHedging: Awaited<ReturnType<typeof hedging.since>> | undefined;
try {
  await measureLoad({ ...load, durationMs: 1_500 }); // warm-up, fills the fallback cache
  const beforeHealthy = await hedging.snapshot();
  for (let round = 0; round < ROUNDS; round++) phases.healthy.push(await measureLoad({ ...load, durationMs: DURATION_MS }));
  healthyHedging = await hedging.since(beforeHealthy);

  // Each round hangs users-0 as it starts: the first callers meet a replica that stopped answering.
  // A healthy round right before each one keeps the ratio honest on a machine whose load drifts.
  const hungPid = stack.get('users-0').pid!;
  for (let round = 0; round < ROUNDS; round++) {
    phases.healthy.push(await measureLoad({ ...load, durationMs: DURATION_MS }));
    process.kill(hungPid, 'SIGSTOP');
    try {
      phases['one users replica hung'].push(await measureLoad({ ...load, durationMs: DURATION_MS }));
    } finally {
      process.kill(hungPid, 'SIGCONT');
    }
    await new Promise((r) => setTimeout(r, 2_000)); // health checks bring it back
  }

  await Promise.all([stack.kill('users-0'), stack.kill('users-1')]);
  phases['outage, first seconds'].push(await measureLoad({ ...load, durationMs: 2_000 }));
  const breaker = (await gatewayState()).subgraphs.users.breaker;
  for (let round = 0; round < ROUNDS; round++) phases['breaker open (fallback)'].push(await measureLoad({ ...load, durationMs: DURATION_MS }));
  console.log(`users breaker after the first seconds of the outage: ${breaker}`);

  await Promise.all([stack.restart('users-0'), stack.restart('users-1')]);
  await new Promise((r) => setTimeout(r, 4_000)); // health checks and the breaker's half-open trial
  for (let round = 0; round < ROUNDS; round++) phases.healthy.push(await measureLoad({ ...load, durationMs: DURATION_MS }));
} finally {
  await stack.dispose();
}

const summary = Object.fromEntries(
  Object.entries(phases).map(([name, results]) => [
    name,
    {
      rps: median(results.map((r) => r.requestsPerSecond)),
      p50: median(results.map((r) => r.p50Ms)),
      p99: median(results.map((r) => r.p99Ms)),
      failures: results.reduce((n, r) => n + r.failures, 0),
      requests: results.reduce((n, r) => n + r.requests, 0),
    },
  ]),
);
console.log(`\nfallback path — ${CONCURRENCY} in flight, medians of rounds (${ROUNDS} × ${DURATION_MS} ms; healthy before and after)`);
console.log('phase                          req/s    p50 ms   p99 ms  requests  without me');
for (const [name, s] of Object.entries(summary)) {
  console.log(`${name.padEnd(29)} ${s.rps.toFixed(0).padStart(6)}  ${s.p50.toFixed(2).padStart(7)}  ${s.p99.toFixed(2).padStart(7)}  ${String(s.requests).padStart(8)}  ${String(s.failures).padStart(10)}`);
}
const healthy = summary.healthy;
const open = summary['breaker open (fallback)'];
const first = summary['outage, first seconds'];
const hung = summary['one users replica hung'];
console.log('\nratios (÷ healthy)');
console.log(`  replica hung:   p99 ${(hung.p99 / healthy.p99).toFixed(2)}× (target ≤ 2×), p50 ${(hung.p50 / healthy.p50).toFixed(2)}×, throughput ${(hung.rps / healthy.rps).toFixed(2)}×`);
if (healthyHedging) {
  const { hedges, calls, won } = healthyHedging;
  console.log(`  hedging when healthy: ${hedges} hedges over ${calls - hedges} subgraph calls = ${((100 * hedges) / Math.max(1, calls - hedges)).toFixed(2)}% extra load (target ≤ 5%), ${won} won`);
}
console.log(`  breaker open:   p99 ${(open.p99 / healthy.p99).toFixed(2)}× (target ≤ 1.5×), p50 ${(open.p50 / healthy.p50).toFixed(2)}×, throughput ${(open.rps / healthy.rps).toFixed(2)}×`);
console.log(`  first seconds:  p99 ${(first.p99 / healthy.p99).toFixed(2)}×, p50 ${(first.p50 / healthy.p50).toFixed(2)}×, throughput ${(first.rps / healthy.rps).toFixed(2)}×`);
