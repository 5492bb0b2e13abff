import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerApiKey } from '../../subgraphs/store/apiKeys.ts';
import { readGatewayState } from '../support/gatewayState.ts';
import { bearer, postGraphQL, waitFor, type GraphQLHttpResult } from '../support/graphqlClient.ts';
import { startRedisServer, type RedisServer } from '../support/redisServer.ts';
import { describeFailures, percentile, runLoad } from '../support/steadyLoad.ts';
import { DEMO_KEY, startTestStack, type TestStack } from '../support/testStack.ts';

// Chaos at the subgraph and gateway level: whole subgraphs and a whole gateway go down, and every
// field must come back fresh, from the fallback cache of its own principal, or degraded — each
// reported in errors[].extensions — never someone else's data.

const U2_KEY = 'chaos-u2-key-9876543210';
const SUBGRAPH_TIMEOUT_MS = 10_000;
/** Served by the users subgraph alone: its latency is the fallback path's, nothing else's. */
const ME_QUERY = '{ me { id name } }';
const PRIVATE_QUERY = `{
  me { id name email quota { remaining } }
  myOrders(first: 1) { totalCount }
  articles(first: 2) { edges { node { id title } } }
}`;

type Errors = NonNullable<GraphQLHttpResult['body']['errors']>;

let redis: RedisServer;
let stack: TestStack;

beforeAll(async () => {
  redis = await startRedisServer();
  stack = await startTestStack({
    env: {
      REDIS_URL: redis.url,
      HEALTH_CHECK_INTERVAL_MS: '500',
      // Large on purpose: a request that waited for a timeout would show in the latencies below.
      SUBGRAPH_TIMEOUT_MS: String(SUBGRAPH_TIMEOUT_MS),
      GATEWAY_TIMEOUT_MS: String(SUBGRAPH_TIMEOUT_MS * 3),
      // Keys stay known at the router while the identity gateway (which resolves them) is down.
      AUTH_CACHE_TTL_MS: '600000',
    },
  });
  // A second principal, registered the way the auth subgraph registers the demo key.
  const store = await stack.database.open();
  try {
    await registerApiKey(store.db, { userId: 'u2', key: U2_KEY, label: 'chaos u2', scopes: [] });
  } finally {
    await store.close();
  }
}, 120_000);

afterAll(async () => {
  await stack?.dispose();
  await redis?.stop();
});

function ask(query: string, key?: string): Promise<GraphQLHttpResult> {
  return postGraphQL(stack.routerUrl, { query }, key ? bearer(key) : {});
}

/** Errors whose path starts at one of these root fields. */
function errorsAt(errors: Errors | undefined, ...roots: string[]): Errors {
  return (errors ?? []).filter((e) => roots.includes(String(e.path?.[0])));
}

/** Asserts a cache fallback extension stored no earlier than `notBefore` (epoch ms). */
function expectCachedFallback(fallback: Record<string, any> | undefined, notBefore: number) {
  expect(fallback).toMatchObject({ source: 'cache', cachedAt: expect.any(String), ageMs: expect.any(Number) });
  const cachedAt = Date.parse(fallback!.cachedAt);
  expect(new Date(cachedAt).toISOString()).toBe(fallback!.cachedAt);
  expect(cachedAt).toBeGreaterThanOrEqual(notBefore);
  expect(cachedAt).toBeLessThanOrEqual(Date.now());
  // ageMs is measured when the answer is served, a moment before we read it: at most that moment
  // less than our own clock's age of the entry, and not much less.
  const ageNow = Date.now() - cachedAt;
  expect(fallback!.ageMs).toBeLessThanOrEqual(ageNow);
  expect(ageNow - fallback!.ageMs).toBeLessThan(2_000);
}

async function restartAndHeal(names: string[], healed: () => Promise<boolean>) {
  await Promise.all(names.map((name) => stack.restart(name)));
  await waitFor(healed, 15_000, 100);
}

describe('every users replica down', () => {
  const fresh: Record<'u1' | 'u2', GraphQLHttpResult['body']> = {} as never;
  let warmedAt = 0;

  beforeAll(async () => {
    warmedAt = Date.now();
    for (const [user, key] of [['u1', DEMO_KEY], ['u2', U2_KEY]] as const) {
      const { status, body } = await ask(PRIVATE_QUERY, key);
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
      expect(body.data!.me.id).toBe(user);
      fresh[user] = body;
    }
    expect(fresh.u1.data!.me.name).not.toBe(fresh.u2.data!.me.name);
    expect((await ask(ME_QUERY, DEMO_KEY)).body.errors).toBeUndefined();
    await Promise.all([stack.kill('users-0'), stack.kill('users-1')]);
  });

  afterAll(async () => {
    await restartAndHeal(['users-0', 'users-1'], async () => {
      const { body } = await ask('{ me { id } }', DEMO_KEY);
      return body.data?.me?.id === 'u1' && !body.errors;
    });
  });

  it('(b) answers me from the fallback cache with its extension, and every other field fresh', async () => {
    const { status, body } = await ask(PRIVATE_QUERY, DEMO_KEY);
    expect(status).toBe(200);
    const { quota: _freshQuota, ...profile } = fresh.u1.data!.me;
    expect(body.data!.me).toMatchObject(profile);
    expect(body.data!.me.quota.remaining).toEqual(expect.any(Number));
    expect(body.data!.myOrders).toEqual(fresh.u1.data!.myOrders);
    expect(body.data!.articles).toEqual(fresh.u1.data!.articles);

    expect(body.errors).toHaveLength(1);
    const [error] = body.errors!;
    expect(error.path).toEqual(['me']);
    expect(error.extensions).toMatchObject({ code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'users', supergraph: 'identity' });
    expectCachedFallback(error.extensions!.fallback, warmedAt);
    expect(JSON.stringify(body)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|stack/i);
  });

  it('opens the users breaker, and while it is open fallbacks come back without waiting for a timeout', async () => {
    const replicaRequests = async () => {
      const { subgraphs } = await readGatewayState(stack, 'identity');
      return { breaker: subgraphs.users.breaker, calls: subgraphs.users.replicas.reduce((n, r) => n + r.requests, 0) };
    };
    let driven = 0;
    await waitFor(async () => {
      driven += 1;
      await ask(PRIVATE_QUERY, DEMO_KEY);
      return (await replicaRequests()).breaker === 'open';
    }, 10_000, 0);
    const before = await replicaRequests();

    const latencies: number[] = [];
    const reasons = new Map<string, number>();
    let fromCache = 0;
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      const { body } = await ask(ME_QUERY, DEMO_KEY);
      latencies.push(performance.now() - started);
      const [error] = errorsAt(body.errors, 'me');
      reasons.set(error?.extensions?.reason, (reasons.get(error?.extensions?.reason) ?? 0) + 1);
      if (body.data?.me?.id === 'u1' && error?.extensions?.fallback?.source === 'cache') fromCache += 1;
    }
    const after = await replicaRequests();
    const median = percentile(latencies, 50);
    console.info(
      `breaker: open after ${driven} request(s); 20 requests while open: ${fromCache} from cache, reasons ${JSON.stringify(Object.fromEntries(reasons))}, median ${median.toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms, users replica calls ${after.calls - before.calls}`,
    );
    expect(driven).toBeLessThanOrEqual(10);
    expect(fromCache).toBe(20);
    expect(reasons.get('circuit_open') ?? 0).toBeGreaterThanOrEqual(15);
    expect(median).toBeLessThan(100);
    expect(Math.max(...latencies)).toBeLessThan(SUBGRAPH_TIMEOUT_MS / 2);
    // Half-open trials at most: the open breaker keeps calls away from the dead replicas.
    expect(after.calls - before.calls).toBeLessThanOrEqual(4);
  });

  it('(h) never serves one principal the cached data of another, nor any of it to anonymous callers', async () => {
    const principals = [
      { user: 'u1' as const, key: DEMO_KEY },
      { user: 'u2' as const, key: U2_KEY },
      { user: undefined, key: undefined },
    ];
    const report = await runLoad({
      concurrency: 6,
      durationMs: 2_000,
      maxPerLoop: 40,
      send: (loop) => ask(PRIVATE_QUERY, principals[loop % 3].key),
    });
    const secrets = (['u1', 'u2'] as const).flatMap((u) => [fresh[u].data!.me.name, fresh[u].data!.me.email]);
    const counts = { u1: 0, u2: 0, anonymous: 0, fromCache: 0, wrong: 0 };
    const wrong: string[] = [];
    for (const sample of report.samples) {
      const { user } = principals[sample.loop % 3];
      const body = sample.body!;
      counts[user ?? 'anonymous'] += 1;
      if (errorsAt(body.errors, 'me')[0]?.extensions?.fallback?.source === 'cache') counts.fromCache += 1;
      let ok: boolean;
      if (user) {
        const expected = fresh[user].data!;
        ok =
          body.data?.me?.id === user &&
          body.data.me.name === expected.me.name &&
          body.data.me.email === expected.me.email &&
          body.data.myOrders?.totalCount === expected.myOrders.totalCount;
      } else {
        const text = JSON.stringify(body);
        ok = body.data?.me === null && secrets.every((secret) => !text.includes(secret));
        ok &&= errorsAt(body.errors, 'me').every((e) => e.extensions?.fallback === undefined);
      }
      if (!ok) {
        counts.wrong += 1;
        wrong.push(`${user ?? 'anonymous'}: ${JSON.stringify(body).slice(0, 300)}`);
      }
    }
    console.info(`(h) ${report.samples.length} requests (u1 ${counts.u1}, u2 ${counts.u2}, anonymous ${counts.anonymous}), ${counts.fromCache} me answers from cache, ${counts.wrong} wrong-principal or leaking answers`);
    expect(wrong.slice(0, 3)).toEqual([]);
    expect(report.samples.filter((s) => s.status !== 200)).toEqual([]);
    expect(counts.fromCache).toBe(counts.u1 + counts.u2);
    expect(Math.min(counts.u1, counts.u2, counts.anonymous)).toBeGreaterThanOrEqual(6);
  });
});

describe('every orders replica down', () => {
  const QUERY = `{
    me { id name }
    myOrders(first: 2) { totalCount edges { node { id total } } pageInfo { hasNextPage endCursor } }
    articles(first: 2) { edges { node { id } } }
  }`;

  it('(c) answers myOrders degraded (an empty page) with its extension, and the rest fresh', async () => {
    const warm = await ask(QUERY, DEMO_KEY);
    expect(warm.body.errors).toBeUndefined();
    expect(warm.body.data!.myOrders.edges).toHaveLength(2);
    await Promise.all([stack.kill('orders-0'), stack.kill('orders-1')]);
    try {
      const report = await runLoad({ concurrency: 2, durationMs: 1_500, maxPerLoop: 15, send: () => ask(QUERY, DEMO_KEY) });
      let degraded = 0;
      for (const { status, body } of report.samples) {
        expect(status).toBe(200);
        expect(body!.data!.myOrders).toEqual({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
        expect(body!.data!.me).toEqual(warm.body.data!.me);
        expect(body!.data!.articles).toEqual(warm.body.data!.articles);
        expect(body!.errors).toHaveLength(1);
        const [error] = body!.errors!;
        expect(error.path).toEqual(['myOrders']);
        expect(error.extensions).toMatchObject({ code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'orders', supergraph: 'commerce' });
        expect(error.extensions!.fallback).toEqual({ source: 'degraded', message: expect.stringMatching(/\w+/) });
        degraded += 1;
      }
      console.info(`(c) ${report.samples.length} requests, ${degraded} with myOrders degraded, p50 ${percentile(report.samples.map((s) => s.latencyMs), 50).toFixed(1)} ms`);
      expect(degraded).toBeGreaterThanOrEqual(10);
    } finally {
      await restartAndHeal(['orders-0', 'orders-1'], async () => {
        const { body } = await ask('{ myOrders(first: 1) { totalCount } }', DEMO_KEY);
        return body.data?.myOrders?.totalCount > 0 && !body.errors;
      });
    }
  });
});

describe('the identity gateway down', () => {
  const QUERY = `{
    me { id name }
    myOrders(first: 1) { totalCount edges { node { id } } }
    articles(first: 2) { edges { node { id title } } }
    models { id }
  }`;

  it('(d) answers commerce fields fresh and me from the router fallback cache', async () => {
    const warmedAt = Date.now();
    const warm = await ask(QUERY, DEMO_KEY);
    expect(warm.body.errors).toBeUndefined();
    await stack.kill('gateway-identity');
    try {
      const report = await runLoad({ concurrency: 2, durationMs: 1_500, maxPerLoop: 15, send: () => ask(QUERY, DEMO_KEY) });
      let fromCache = 0;
      for (const { status, body } of report.samples) {
        expect(status).toBe(200);
        // Commerce is untouched: the same fresh answer, no error on its paths.
        expect(errorsAt(body!.errors, 'myOrders', 'articles', 'models'), describeFailures(report.failures, 1)).toEqual([]);
        for (const field of ['myOrders', 'articles', 'models']) expect(body!.data![field]).toEqual(warm.body.data![field]);
        // Identity: the router's last good answer for this principal.
        expect(body!.data!.me).toEqual(warm.body.data!.me);
        expect(body!.errors).toHaveLength(1);
        const [error] = body!.errors!;
        expect(error.path).toEqual(['me']);
        expect(error.extensions).toMatchObject({ code: 'SUPERGRAPH_UNAVAILABLE', supergraph: 'identity' });
        expectCachedFallback(error.extensions!.fallback, warmedAt);
        fromCache += 1;
      }
      console.info(`(d) ${report.samples.length} requests, ${fromCache} with me from the router cache and commerce fresh, p50 ${percentile(report.samples.map((s) => s.latencyMs), 50).toFixed(1)} ms`);
      expect(fromCache).toBeGreaterThanOrEqual(10);
    } finally {
      await restartAndHeal(['gateway-identity'], async () => {
        const { body } = await ask('{ me { id } }', DEMO_KEY);
        return body.data?.me?.id === 'u1' && !body.errors;
      });
    }
  });
});
