import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRINCIPAL_HEADER, signPrincipal } from '../../lib/principal.ts';
import { SUBGRAPH_NAMES } from '../../subgraphs/subgraphNames.ts';
import { readGatewayState, replicasByUrl, type ReplicaStateView } from '../support/gatewayState.ts';
import { bearer, postGraphQL, waitFor } from '../support/graphqlClient.ts';
import { startLatencyProxy, type LatencyProxy } from '../support/latencyProxy.ts';
import { startRedisServer, type RedisServer } from '../support/redisServer.ts';
import { describeFailures, percentile, runLoad, sleep, startLoad, waitUntil, type LoadOptions, type LoadReport } from '../support/steadyLoad.ts';
import { DEMO_KEY, startTestStack, type TestStack } from '../support/testStack.ts';

// Chaos at the replica level: one stack of real processes with a real Redis; replicas are killed,
// revived and slowed down under steady load, and the client must not notice.

const HEALTH_CHECK_INTERVAL_MS = 500;
const SLOW_REPLICA = 'articles-1';
/** Touches six subgraphs; auth gets its traffic from AUTH_LOOKUP (and the router's key lookups). */
const EVERY_SUBGRAPH_QUERY = `{
  me { id name quota { remaining } }
  articles(first: 3) { edges { node { id title views } } }
  myOrders(first: 2) { edges { node { id lines { article { id } } } } }
  models { id }
}`;
/** Public and served by the articles subgraph alone. */
const ARTICLES_QUERY = '{ articles(first: 3) { edges { node { id title price } } } }';
/** What the router asks the identity gateway to resolve an API key: the auth subgraph's only steady traffic. */
const AUTH_LOOKUP = 'query($apiKey: String!) { _internalAuthenticate(apiKey: $apiKey) { userId } }';

let redis: RedisServer;
let stack: TestStack;
let proxy: LatencyProxy | undefined;
/** Component name → the URL the gateways use for it (a proxy for SLOW_REPLICA). */
const gatewayUrlOf = new Map<string, string>();
const killed = SUBGRAPH_NAMES.map((name) => `${name}-0`);

beforeAll(async () => {
  redis = await startRedisServer();
  stack = await startTestStack({
    env: {
      REDIS_URL: redis.url,
      HEALTH_CHECK_INTERVAL_MS: String(HEALTH_CHECK_INTERVAL_MS),
      // Short-lived API key cache at the router, so the auth subgraph sees steady traffic too.
      AUTH_CACHE_TTL_MS: '500',
      // No fresh response cache at the router: every query must reach the replicas under test.
      RESPONSE_CACHE: 'off',
    },
    async replicaUrl(component, url) {
      let used = url;
      if (component === SLOW_REPLICA) {
        const target = new URL(url);
        proxy = await startLatencyProxy({ target: { host: target.hostname, port: Number(target.port) } });
        target.host = proxy.host;
        used = target.toString();
      }
      gatewayUrlOf.set(component, used);
      return used;
    },
  });
  // Steady state first: the first requests of a fresh stack are slow (JIT, query plans) and would
  // still be in flight at the kill, which is not the scenario.
  await everySubgraphLoad(1_500);
}, 120_000);

afterAll(async () => {
  await stack?.dispose();
  await proxy?.close();
  await redis?.stop();
});

/**
 * 8 loops of EVERY_SUBGRAPH_QUERY through the router, plus one loop of key lookups straight to the
 * identity gateway (signed as the router signs them): auth sees one call at a time, as in production.
 */
function everySubgraphLoad(durationMs: number, during?: () => Promise<void>): Promise<LoadReport> {
  return runLoad({ ...everySubgraphLoadOptions(), durationMs, during });
}

function everySubgraphLoadOptions(): LoadOptions {
  const identityGateway = `http://127.0.0.1:${stack.get('gateway-identity').port}/graphql`;
  return {
    concurrency: 9,
    send: (loop) =>
      loop === 8
        ? postGraphQL(identityGateway, { query: AUTH_LOOKUP, variables: { apiKey: DEMO_KEY } }, {
            [PRINCIPAL_HEADER]: signPrincipal({ scopes: [] }, stack.env.INTERNAL_SECRET),
          })
        : postGraphQL(stack.routerUrl, { query: EVERY_SUBGRAPH_QUERY }, bearer(DEMO_KEY)),
  };
}

/** True when a load sample carries the caller's own data (u1) for what it asked. */
function answeredForU1(sample: LoadReport['samples'][number]): boolean {
  const data = sample.body?.data;
  return data?.me?.id === 'u1' || data?._internalAuthenticate?.userId === 'u1';
}

/** The gateways' counters of one replica, by component name. */
async function replicaState(component: string): Promise<ReplicaStateView> {
  const state = (await replicasByUrl(stack)).get(gatewayUrlOf.get(component)!);
  if (!state) throw new Error(`no gateway knows ${component}`);
  return state;
}

describe('replica failures under steady load', () => {
  it('(a) loses no client request when one replica of every subgraph is killed', async () => {
    // Counted in requests, not seconds: a loaded CI machine slows the stack, and each phase still gets its share.
    const load = startLoad(everySubgraphLoadOptions());
    await waitUntil(() => load.count >= 20, 1_200);
    const killedAt = Date.now();
    const answeredAtKill = load.count;
    await Promise.all(killed.map((name) => stack.kill(name)));
    await waitUntil(() => load.count - answeredAtKill >= 50, 2_800);
    const report = await load.stop();
    const before = report.samples.filter((s) => s.startedAt < killedAt).length;
    const after = report.samples.length - before;
    console.info(`(a) ${report.samples.length} requests (${before} before the kill, ${after} during/after), ${report.failures.length} failed; p50 ${percentile(report.samples.map((s) => s.latencyMs), 50).toFixed(1)} ms, p99 ${percentile(report.samples.map((s) => s.latencyMs), 99).toFixed(1)} ms`);
    expect(report.failures.length, describeFailures(report.failures)).toBe(0);
    expect(before).toBeGreaterThan(10);
    expect(after).toBeGreaterThan(30);
    expect(report.samples.filter((s) => !answeredForU1(s))).toEqual([]);

    // The survivors carried everything after the kill: the killed replicas are out of the rotation.
    for (const name of killed) expect((await replicaState(name)).healthy, name).toBe(false);
  });

  it('(f) sends traffic to revived replicas again within the health-check interval', async () => {
    const twins = killed.map((name) => name.replace(/-0$/, '-1'));
    const baseline = new Map<string, number>();
    for (const name of [...killed, ...twins]) baseline.set(name, (await replicaState(name)).requests);
    await Promise.all(killed.map((name) => stack.restart(name)));
    const revivedAt = Date.now();
    const firstTrafficAfterMs = new Map<string, number>();
    const report = await everySubgraphLoad(2_500, async () => {
      while (firstTrafficAfterMs.size < killed.length && Date.now() - revivedAt < 2_400) {
        const byUrl = await replicasByUrl(stack);
        for (const name of killed) {
          const requests = byUrl.get(gatewayUrlOf.get(name)!)!.requests;
          if (!firstTrafficAfterMs.has(name) && requests > baseline.get(name)!) firstTrafficAfterMs.set(name, Date.now() - revivedAt);
        }
        await sleep(50);
      }
    });
    const gainedOf = async (name: string) => (await replicaState(name)).requests - baseline.get(name)!;
    const gained = await Promise.all(killed.map(gainedOf));
    const twinGained = await Promise.all(twins.map(gainedOf));
    console.info(
      `(f) ${report.samples.length} requests, ${report.failures.length} failed; first traffic after revival (ms): ${killed.map((n) => `${n}=${firstTrafficAfterMs.get(n) ?? 'none'}`).join(' ')}; calls revived/twin: ${killed.map((n, i) => `${n.slice(0, -2)} ${gained[i]}/${twinGained[i]}`).join(', ')}`,
    );
    expect(report.failures.length, describeFailures(report.failures)).toBe(0);
    for (const [i, name] of killed.entries()) {
      expect(firstTrafficAfterMs.get(name) ?? Number.POSITIVE_INFINITY, `${name}: first request after revival (ms)`).toBeLessThanOrEqual(HEALTH_CHECK_INTERVAL_MS + 1_500);
      expect(gained[i], name).toBeGreaterThan(0);
      expect((await replicaState(name)).healthy, name).toBe(true);
    }
  });

  it('(g) sends clearly less traffic to a slow replica than to its healthy twin', async () => {
    const fast = 'articles-0';
    const slowBefore = await replicaState(SLOW_REPLICA);
    const before = { fast: (await replicaState(fast)).requests, slow: slowBefore.requests, slowOvertaken: slowBefore.overtaken };
    proxy!.setLatency(150);
    let report: LoadReport;
    try {
      report = await runLoad({
        concurrency: 4,
        durationMs: 3_000,
        send: () => postGraphQL(stack.routerUrl, { query: ARTICLES_QUERY }),
      });
    } finally {
      proxy!.setLatency(0);
    }
    const [fastState, slowState] = [await replicaState(fast), await replicaState(SLOW_REPLICA)];
    const fastRequests = fastState.requests - before.fast;
    const slowRequests = slowState.requests - before.slow;
    const slowShare = slowRequests / (fastRequests + slowRequests);
    console.info(
      `(g) ${report.samples.length} requests, ${report.failures.length} failed; articles calls: fast ${fastRequests}, slow ${slowRequests} (share ${(slowShare * 100).toFixed(1)}%); latency EWMA fast ${fastState.latencyEwmaMs} ms, slow ${slowState.latencyEwmaMs} ms; slow attempts overtaken by hedges ${slowState.overtaken - before.slowOvertaken}; client p50 ${percentile(report.samples.map((s) => s.latencyMs), 50).toFixed(1)} ms`,
    );
    expect(report.failures.length, describeFailures(report.failures)).toBe(0);
    expect(fastRequests).toBeGreaterThan(50);
    expect(slowShare).toBeLessThan(0.25);
    expect(slowRequests * 3).toBeLessThan(fastRequests);
    // The pool saw the difference: hedges overtook the slow replica's first attempts (each one steers
    // picks away; its latency average then hears of few slow answers), or its average rose.
    const overtaken = slowState.overtaken - before.slowOvertaken;
    expect(overtaken > 0 || slowState.latencyEwmaMs > 2 * fastState.latencyEwmaMs, `overtaken ${overtaken}, EWMA ${slowState.latencyEwmaMs} ms`).toBe(true);
    expect(slowState.healthy).toBe(true);
  });

  it('cancels the subgraph call a client started when the client disconnects', async () => {
    await stack.kill('articles-0'); // every articles call now goes to the slowed replica
    proxy!.setLatency(1_500);
    try {
      const controller = new AbortController();
      const pending = fetch(stack.routerUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: ARTICLES_QUERY }),
        signal: controller.signal,
      }).catch((error: Error) => error);
      await waitFor(async () => (await replicaState(SLOW_REPLICA)).inFlight === 1, 5_000, 20);
      const abortedAt = performance.now();
      controller.abort();
      expect(await pending).toMatchObject({ name: 'AbortError' });
      // The slowed replica would answer after ~3 s; the gateway lets go of the call long before that.
      await waitFor(async () => (await replicaState(SLOW_REPLICA)).inFlight === 0, 2_000, 20);
      const releasedAfterMs = performance.now() - abortedAt;
      console.info(`(cancel) gateway released the subgraph call ${releasedAfterMs.toFixed(0)} ms after the client left`);
      expect(releasedAfterMs).toBeLessThan(1_000);
    } finally {
      proxy!.setLatency(0);
      await stack.restart('articles-0');
    }
  });

  it('opens the breaker of a hung subgraph, after which answers come at once from the fallback', async () => {
    const me = { query: '{ me { id name } }' };
    await postGraphQL(stack.routerUrl, me, bearer(DEMO_KEY)); // a fresh entry in the fallback cache
    const pids = ['users-0', 'users-1'].map((name) => stack.get(name).pid!);
    for (const pid of pids) process.kill(pid, 'SIGSTOP'); // hung, not dead: connections open, no answer
    const load = startLoad({ concurrency: 6, send: () => postGraphQL(stack.routerUrl, me, bearer(DEMO_KEY)) });
    let openedAt = 0;
    try {
      const started = performance.now();
      await waitFor(async () => (await readGatewayState(stack, 'identity')).subgraphs.users.breaker === 'open', 20_000, 100);
      openedAt = Date.now();
      console.info(`(hung) users breaker open ${(performance.now() - started).toFixed(0)} ms after the replicas hung`);
      await sleep(1_500);
    } finally {
      for (const pid of pids) process.kill(pid, 'SIGCONT');
    }
    const report = await load.stop();
    const afterOpen = report.samples.filter((s) => s.startedAt > openedAt + 100 && s.startedAt < openedAt + 1_400);
    const latencies = afterOpen.map((s) => s.latencyMs);
    console.info(`(hung) ${afterOpen.length} answers while open: p50 ${percentile(latencies, 50).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`);
    expect(afterOpen.length).toBeGreaterThan(10);
    for (const sample of afterOpen) {
      expect(sample.body?.data?.me, JSON.stringify(sample.body)).toEqual({ id: 'u1', name: expect.any(String) });
      expect(sample.body?.errors?.[0]?.extensions).toMatchObject({ serviceName: 'users', fallback: { source: 'cache' } });
    }
    expect(Math.max(...latencies)).toBeLessThan(1_000); // nobody waits for the 4 s subgraph deadline
  });
});
