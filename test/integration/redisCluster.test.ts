import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, type RedisClient } from '../../lib/cache/connectRedis.ts';
import { RedisCacheStore } from '../../lib/cache/redisCacheStore.ts';
import { createApiKeyRevocations } from '../../router/apiKeyRevocations.ts';
import { createRedisRateLimiter } from '../../router/rateLimit/redisRateLimiter.ts';
import { RedisChunkLog } from '../../subgraphs/chat/chunkLog/redisChunkLog.ts';
import { RedisPromptCache } from '../../subgraphs/chat/promptCache/redisPromptCache.ts';
import { bearer, postGraphQL, waitFor } from '../support/graphqlClient.ts';
import { startRedisCluster, startRedisSentinel, type RedisCluster, type RedisSentinelSet } from '../support/redisCluster.ts';
import { postSse } from '../support/sseClient.ts';
import { DEMO_KEY, startTestStack, type TestStack } from '../support/testStack.ts';

// REDIS_URL naming a 3-master Cluster (and a Sentinel set): every Redis user of the platform, first
// one by one against keys that land on different nodes, then the whole stack running on the Cluster.
let cluster: RedisCluster;
let sentinel: RedisSentinelSet;
const clients: RedisClient[] = [];
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  [cluster, sentinel] = await Promise.all([startRedisCluster(), startRedisSentinel()]);
}, 60_000);

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  for (const client of clients) client.disconnect();
  await cluster?.stop();
  await sentinel?.stop();
});

function client(url = cluster.url): RedisClient {
  const redis = connectRedis(url);
  clients.push(redis);
  return redis;
}

/** Keys (unprefixed) whose slots live on `count` different nodes of the cluster. */
async function keysOnDistinctNodes(prefix: string, count: number): Promise<string[]> {
  const byNode = new Map<number, string>();
  for (let i = 0; byNode.size < count; i++) {
    const key = `k${i}`;
    const node = await cluster.ownerOf(prefix + key);
    if (!byNode.has(node)) byNode.set(node, key);
  }
  return [...byNode.values()];
}

async function ready(store: { available: boolean }): Promise<void> {
  await waitFor(() => store.available, 10_000, 20);
}

describe('each Redis user on a 3-master Cluster', () => {
  it('the cache store (fallbacks, response cache, APQ): values and tags on keys of different nodes', async () => {
    const store = new RedisCacheStore({ url: cluster.url, commandTimeoutMs: 1_000 });
    closers.push(() => store.close());
    await ready(store);
    const keys = await keysOnDistinctNodes('sg:', 3);
    for (const key of keys) await store.set(key, `value of ${key}`, 60);
    for (const key of keys) expect(await store.get(key)).toBe(`value of ${key}`);
    for (const key of keys) await store.tag('tag:Article', key, 60);
    await store.invalidateTag('tag:Article');
    for (const key of keys) expect(await store.get(key)).toBeUndefined();
  });

  it('the rate limiter: its script counts per caller on whichever node owns the caller', async () => {
    const limiter = createRedisRateLimiter({ url: cluster.url, commandTimeoutMs: 1_000 });
    closers.push(() => limiter.close());
    await ready(limiter);
    const policy = { name: 'test', limit: 2, windowSeconds: 60 };
    for (const caller of await keysOnDistinctNodes('sg:rl:', 3)) {
      const decisions = [await limiter.take(caller, policy), await limiter.take(caller, policy), await limiter.take(caller, policy)];
      expect(decisions.map((d) => [d.allowed, d.failedOpen ?? false])).toEqual([[true, false], [true, false], [false, false]]);
    }
  });

  it('the chat chunk log: appends on one replica wake a follower on another through pub/sub, whatever node holds the stream', async () => {
    const [writer, follower] = [new RedisChunkLog(client(), 60_000), new RedisChunkLog(client(), 60_000)];
    closers.push(() => writer.close(), () => follower.close());
    for (const messageId of await keysOnDistinctNodes('chat:chunks:', 3)) {
      const controller = new AbortController();
      // A long poll: only the published wake-up can end this wait in time.
      const woken = follower.waitForAppend(messageId, 30_000, controller.signal, true);
      await new Promise((resolve) => setTimeout(resolve, 100)); // the follower's SUBSCRIBE reaches the cluster
      const started = Date.now();
      expect(await writer.append(messageId, { index: 0, delta: 'Hello', done: false })).toBe(true);
      expect(await writer.append(messageId, { index: 0, delta: 'again', done: false })).toBe(false);
      await woken;
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(await follower.readStored(messageId, -1)).toEqual([{ index: 0, delta: 'Hello', done: false }]);
      controller.abort();
    }
  });

  it('the prompt cache', async () => {
    const cache = new RedisPromptCache(client());
    for (const key of await keysOnDistinctNodes('chat:prompt:', 3)) {
      await cache.set(key, { content: `answer ${key}`, completionTokens: 2 }, 60);
      expect(await cache.get(key)).toEqual({ content: `answer ${key}`, completionTokens: 2 });
    }
  });

  it('API key revocations reach a router subscribed through another node', async () => {
    const forgotten: string[] = [];
    const listening = createApiKeyRevocations({ resolver: { forgetUser: (user) => void forgotten.push(user) }, redisUrl: cluster.url });
    const revoking = createApiKeyRevocations({ resolver: { forgetUser: () => {} }, redisUrl: cluster.url });
    closers.push(() => listening.close(), () => revoking.close());
    // Published until heard: the subscription is made in the background as the router starts.
    await waitFor(async () => {
      await revoking.revoked('u-cluster');
      return forgotten.includes('u-cluster');
    }, 10_000, 100);
  });
});

describe('a Sentinel set', () => {
  it('serves the cache store and the rate limiter through the primary the sentinel names', async () => {
    const store = new RedisCacheStore({ url: sentinel.url, commandTimeoutMs: 1_000 });
    const limiter = createRedisRateLimiter({ url: sentinel.url, commandTimeoutMs: 1_000 });
    closers.push(() => store.close(), () => limiter.close());
    await ready(store);
    await ready(limiter);
    await store.set('through-sentinel', 'yes', 60);
    expect(await store.get('through-sentinel')).toBe('yes');
    // Written to the primary itself, not to some other Redis.
    const direct = client(sentinel.primary.url);
    expect(await direct.get('sg:through-sentinel')).toBe('yes');
    const policy = { name: 'test', limit: 1, windowSeconds: 60 };
    expect((await limiter.take('sentinel-caller', policy)).allowed).toBe(true);
    expect((await limiter.take('sentinel-caller', policy)).allowed).toBe(false);
  });
});

describe('the whole stack with REDIS_URL naming the Cluster', () => {
  const FREE_KEY = 'cluster-free-key-0123456789';
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ env: { REDIS_URL: cluster.url, DEMO_FREE_API_KEY: FREE_KEY, RATE_LIMIT_FREE: '3/60', CHAT_TOKEN_INTERVAL_MS: '5' } });
  }, 120_000);
  afterAll(async () => {
    await stack?.dispose();
  });

  it('streams a chat answer (chunk log in the Cluster), registers an APQ, counts rate limits, and serves the response cache', async () => {
    const events = [];
    for await (const event of postSse(stack.routerUrl, { query: 'subscription { chatStream(input: { prompt: "cluster hello" }) { messageId index delta done } }' }, bearer(DEMO_KEY))) {
      events.push(JSON.parse(event.data));
    }
    const chunks = events.map((e) => e.data.chatStream);
    expect(chunks.at(-1).done).toBe(true);
    expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
    const stream = await client().xlen(`chat:chunks:${chunks[0].messageId}`);
    expect(stream).toBe(chunks.length);

    const query = '{ article(id: "a7") { id title } }';
    const persisted = { extensions: { persistedQuery: { version: 1, sha256Hash: createHash('sha256').update(query).digest('hex') } } };
    expect((await postGraphQL(stack.routerUrl, JSON.stringify({ query, ...persisted }))).body.data).toEqual({ article: { id: 'a7', title: expect.any(String) } });
    expect((await postGraphQL(stack.routerUrl, JSON.stringify(persisted))).body.data).toMatchObject({ article: { id: 'a7' } });

    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await postGraphQL(stack.routerUrl, { query: '{ models { id } }' }, bearer(FREE_KEY))).body.errors?.[0]?.extensions?.code ?? 'OK');
    expect(statuses).toEqual(['OK', 'OK', 'OK', 'RATE_LIMITED']);

    // The response cache answers a public query while the gateway that owns it is gone.
    await stack.kill('gateway-commerce');
    try {
      expect((await postGraphQL(stack.routerUrl, { query })).body).toEqual({ data: { article: { id: 'a7', title: expect.any(String) } } });
    } finally {
      await stack.restart('gateway-commerce');
    }

    // And all of it is spread over the cluster's nodes.
    const counts = await Promise.all(cluster.ports.map(async (port) => (await client(`redis://127.0.0.1:${port}`).dbsize())));
    expect(counts.filter((n) => n > 0).length).toBeGreaterThan(1);
  });
});
