import { launchScratchStack } from '../scripts/launchScratchStack.ts';
import { BENCH } from './benchSettings.ts';
import { measureLoad, median, type LoadResult } from './measureLoad.ts';

// `npm run bench` (first part): router overhead. The same one-supergraph query through the router and straight to
// its gateway, and a two-supergraph query through the router, interleaved over several rounds so
// machine noise hits all three alike; medians of the rounds and their ratios are printed.
const { rounds: ROUNDS, durationMs: DURATION_MS, concurrency: CONCURRENCY, demoApiKey: KEY } = BENCH;

const stack = await launchScratchStack({
  demoApiKey: KEY,
  // The fresh response cache is off: this measures the routing work, not cache hits.
  env: { RESPONSE_TTL_SECONDS: '{}' },
});
const commerceUrl = `http://127.0.0.1:${stack.get('gateway-commerce').port}/graphql`;
const oneSupergraph = JSON.stringify({ query: '{ articles(first: 5) { edges { node { id title price } } } }' });
const twoSupergraphs = JSON.stringify({
  query: '{ me { id name plan } articles(first: 5) { edges { node { id title price } } } }',
});
const authHeaders = { authorization: `Bearer ${KEY}` };

const scenarios = {
  'gateway direct (1 supergraph)': { url: commerceUrl, body: oneSupergraph, headers: {} },
  'router (1 supergraph)': { url: stack.routerUrl, body: oneSupergraph, headers: {} },
  'router (2 supergraphs)': { url: stack.routerUrl, body: twoSupergraphs, headers: authHeaders },
};
type Name = keyof typeof scenarios;
const results = Object.fromEntries(Object.keys(scenarios).map((k) => [k, [] as LoadResult[]])) as Record<Name, LoadResult[]>;

try {
  for (const scenario of Object.values(scenarios)) {
    await measureLoad({ ...scenario, concurrency: CONCURRENCY, durationMs: 1_000 }); // warm-up
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, scenario] of Object.entries(scenarios) as Array<[Name, (typeof scenarios)[Name]]>) {
      results[name].push(await measureLoad({ ...scenario, concurrency: CONCURRENCY, durationMs: DURATION_MS }));
    }
  }
} finally {
  await stack.dispose();
}

const summary = Object.fromEntries(
  (Object.keys(results) as Name[]).map((name) => [
    name,
    {
      rps: median(results[name].map((r) => r.requestsPerSecond)),
      p50: median(results[name].map((r) => r.p50Ms)),
      p99: median(results[name].map((r) => r.p99Ms)),
      failures: results[name].reduce((n, r) => n + r.failures, 0),
    },
  ]),
) as Record<Name, { rps: number; p50: number; p99: number; failures: number }>;

console.log(`\nrouter overhead — ${ROUNDS} rounds × ${DURATION_MS} ms, ${CONCURRENCY} in flight, medians of rounds`);
console.log('scenario                          req/s    p50 ms   p99 ms  failures');
for (const [name, s] of Object.entries(summary)) {
  console.log(`${name.padEnd(32)} ${s.rps.toFixed(0).padStart(6)}  ${s.p50.toFixed(2).padStart(7)}  ${s.p99.toFixed(2).padStart(7)}  ${String(s.failures).padStart(8)}`);
}
const direct = summary['gateway direct (1 supergraph)'];
const one = summary['router (1 supergraph)'];
const two = summary['router (2 supergraphs)'];
console.log('\nratios (router ÷ gateway direct)');
console.log(`  1 supergraph:  throughput ${(one.rps / direct.rps).toFixed(2)}×, p50 ${(one.p50 / direct.p50).toFixed(2)}×, p99 ${(one.p99 / direct.p99).toFixed(2)}×`);
console.log(`  2 supergraphs: throughput ${(two.rps / direct.rps).toFixed(2)}×, p50 ${(two.p50 / direct.p50).toFixed(2)}×, p99 ${(two.p99 / direct.p99).toFixed(2)}×`);
