import { launchScratchStack } from '../scripts/launchScratchStack.ts';
import { startLatencyProxy, type LatencyProxy } from '../test/support/latencyProxy.ts';
import { BENCH } from './benchSettings.ts';
import { PRINCIPAL_HEADER, signPrincipal } from '../lib/principal.ts';
import { measureLoad, median, type LoadResult } from './measureLoad.ts';

// `npm run bench` (third part): the replica-picking rule, measured. One articles replica is slowed
// (a proxy adds latency in front of it) and the same query is sent straight to the commerce gateway
// with each balancer: least-request (power of two choices on requests in flight) and peak-ewma (in
// flight × recent latency, the default). Lower client latency and a smaller share of calls to the
// slow replica are better.
const ADDED_LATENCY_MS = Number(process.env.BENCH_ADDED_LATENCY_MS ?? 50);
const { rounds: ROUNDS, durationMs: DURATION_MS, concurrency: CONCURRENCY, demoApiKey } = BENCH;
const query = JSON.stringify({ query: '{ articles(first: 5) { edges { node { id title price } } } }' });

interface Outcome {
  load: LoadResult[];
  slowShare: number;
}

async function measure(balancer: 'least-request' | 'peak-ewma'): Promise<Outcome> {
  let proxy: LatencyProxy | undefined;
  let slowUrl = '';
  const stack = await launchScratchStack({
    demoApiKey,
    env: { LOAD_BALANCER: balancer, LOG_LEVEL: 'error' },
    async replicaUrl(component, url) {
      if (component !== 'articles-1') return url;
      const target = new URL(url);
      proxy = await startLatencyProxy({ target: { host: target.hostname, port: Number(target.port) } });
      target.host = proxy.host;
      slowUrl = target.toString();
      return slowUrl;
    },
  });
  const gateway = `http://127.0.0.1:${stack.get('gateway-commerce').port}`;
  const gatewayAdmin = `http://127.0.0.1:${stack.get('gateway-commerce').adminPort}`;
  // Gateways answer only the router's signed requests: sign as the router does for anonymous callers.
  const headers = () => ({ [PRINCIPAL_HEADER]: signPrincipal({ scopes: [] }, stack.env.INTERNAL_SECRET) });
  const articlesCalls = async () => {
    const state = (await (await fetch(`${gatewayAdmin}/internal/state`)).json()) as {
      subgraphs: { articles: { replicas: Array<{ url: string; requests: number }> } };
    };
    const replicas = state.subgraphs.articles.replicas;
    return { slow: replicas.find((r) => r.url === slowUrl)!.requests, all: replicas.reduce((n, r) => n + r.requests, 0) };
  };
  try {
    await measureLoad({ url: `${gateway}/graphql`, body: query, headers, concurrency: CONCURRENCY, durationMs: 1_500 }); // warm-up
    proxy!.setLatency(ADDED_LATENCY_MS);
    const before = await articlesCalls();
    const load: LoadResult[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      load.push(await measureLoad({ url: `${gateway}/graphql`, body: query, headers, concurrency: CONCURRENCY, durationMs: DURATION_MS }));
    }
    const after = await articlesCalls();
    return { load, slowShare: (after.slow - before.slow) / (after.all - before.all) };
  } finally {
    await stack.dispose();
    await proxy?.close();
  }
}

const outcomes = { 'least-request': await measure('least-request'), 'peak-ewma': await measure('peak-ewma') };
const summary = Object.fromEntries(
  Object.entries(outcomes).map(([name, o]) => [
    name,
    {
      rps: median(o.load.map((r) => r.requestsPerSecond)),
      p50: median(o.load.map((r) => r.p50Ms)),
      p99: median(o.load.map((r) => r.p99Ms)),
      slowShare: o.slowShare,
    },
  ]),
);
console.log(`\nbalancer — one of two articles replicas slowed by ${ADDED_LATENCY_MS} ms per chunk each way, ${CONCURRENCY} in flight, gateway direct`);
console.log('balancer          req/s    p50 ms   p99 ms  calls to the slow replica');
for (const [name, s] of Object.entries(summary)) {
  console.log(`${name.padEnd(15)} ${s.rps.toFixed(0).padStart(7)}  ${s.p50.toFixed(2).padStart(7)}  ${s.p99.toFixed(2).padStart(7)}  ${(s.slowShare * 100).toFixed(1).padStart(6)} %`);
}
const [lr, pe] = [summary['least-request'], summary['peak-ewma']];
console.log(`\nratios (peak-ewma ÷ least-request): p50 ${(pe.p50 / lr.p50).toFixed(2)}×, p99 ${(pe.p99 / lr.p99).toFixed(2)}×, throughput ${(pe.rps / lr.rps).toFixed(2)}×`);
