import { launchScratchStack } from '../scripts/launchScratchStack.ts';
import { BENCH } from './benchSettings.ts';
import { PRINCIPAL_HEADER, signPrincipal } from '../lib/principal.ts';
import { measureLoad, median, type LoadResult, type LoadTarget } from './measureLoad.ts';

// `npm run bench` (first part): router overhead. The same one-supergraph query through the router and straight to
// its gateway, and a two-supergraph query through the router, interleaved over several rounds so
// machine noise hits all three alike; medians of the rounds and their ratios are printed.
const { rounds: ROUNDS, durationMs: DURATION_MS, concurrency: CONCURRENCY, demoApiKey: KEY } = BENCH;

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

const scenarios: Record<string, LoadTarget & { also?: LoadTarget[] }> = {
  'gateway direct (1 supergraph)': { url: commerceUrl, body: oneSupergraph, headers: asAnonymous },
  'router (1 supergraph)': { url: stack.routerUrl, body: oneSupergraph, headers: {} },
  'gateways direct (2, parallel)': { url: identityUrl, body: meOnly, headers: asDemoUser, also: [{ url: commerceUrl, body: oneSupergraph, headers: asDemoUser }] },
  'router (2 supergraphs)': { url: stack.routerUrl, body: twoSupergraphs, headers: authHeaders },
};
type Name = string;
const results = Object.fromEntries(Object.keys(scenarios).map((k) => [k, [] as LoadResult[]])) as Record<Name, LoadResult[]>;

try {
  for (const scenario of Object.values(scenarios)) {
    await measureLoad({ ...scenario, concurrency: CONCURRENCY, durationMs: 1_000 }); // warm-up
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, scenario] of Object.entries(scenarios)) {
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
const ratio = (router: string, direct: string, label: string) => {
  const [r, d] = [summary[router], summary[direct]];
  console.log(`  ${label}: throughput ${(r.rps / d.rps).toFixed(2)}×, p50 ${(r.p50 / d.p50).toFixed(2)}×, p99 ${(r.p99 / d.p99).toFixed(2)}×`);
};
console.log('\nratios (router ÷ the same work sent straight to the gateways)');
ratio('router (1 supergraph)', 'gateway direct (1 supergraph)', '1 supergraph ');
ratio('router (2 supergraphs)', 'gateways direct (2, parallel)', '2 supergraphs');
console.log('ratio (2 supergraphs through the router ÷ 1 supergraph straight to its gateway)');
ratio('router (2 supergraphs)', 'gateway direct (1 supergraph)', '2 vs 1       ');
