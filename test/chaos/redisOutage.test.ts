import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, postGraphQL, waitFor } from '../support/graphqlClient.ts';
import { readAdminMetrics, sampleSum } from '../support/gatewayMetrics.ts';
import { startRedisServer, type RedisServer } from '../support/redisServer.ts';
import { describeFailures, percentile, runLoad, sleep, startLoad, waitUntil, type LoadSample } from '../support/steadyLoad.ts';
import { DEMO_KEY, startTestStack, type TestStack } from '../support/testStack.ts';

// Chaos for the shared cache: Redis dies under load and comes back empty. Requests must not notice
// either, and the caches (router and gateways) must start filling Redis again on their own.

const PUBLIC_QUERY = '{ articles(first: 3) { edges { node { id title views } } } models { id } }';
const PRIVATE_QUERY = '{ me { id name quota { remaining } } myOrders(first: 2) { totalCount } }';

let redis: RedisServer;
let stack: TestStack;

beforeAll(async () => {
  redis = await startRedisServer();
  stack = await startTestStack({ env: { REDIS_URL: redis.url, HEALTH_CHECK_INTERVAL_MS: '500' } });
}, 120_000);

afterAll(async () => {
  await stack?.dispose();
  await redis?.stop();
});

/** Keys under the stack's prefix matching `pattern`, read with a connection of our own. */
async function redisKeys(pattern = 'sg:*'): Promise<string[]> {
  const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await client.connect();
    return await client.keys(pattern);
  } finally {
    client.disconnect();
  }
}

/** `cache_store_commands_total` by result, summed over the router and both gateways (their admin /metrics). */
async function cacheCommands(): Promise<Record<'answered' | 'failed' | 'skipped', number>> {
  const total = { answered: 0, failed: 0, skipped: 0 };
  for (const component of ['router', 'gateway-identity', 'gateway-commerce']) {
    const metrics = await readAdminMetrics(stack, component);
    for (const result of ['answered', 'failed', 'skipped'] as const) total[result] += sampleSum(metrics, 'cache_store_commands_total', { result });
  }
  return total;
}

function sendMixed(loop: number) {
  return loop % 2 === 0
    ? postGraphQL(stack.routerUrl, { query: PUBLIC_QUERY })
    : postGraphQL(stack.routerUrl, { query: PRIVATE_QUERY }, bearer(DEMO_KEY));
}

const p = (samples: LoadSample[], q: number) => percentile(samples.map((s) => s.latencyMs), q).toFixed(1);

describe('Redis outage', () => {
  it('(e, slow) loses no request while Redis hangs, and each request waits at most a cache timeout', async () => {
    for (let i = 0; i < 4; i++) expect((await sendMixed(i)).body.errors).toBeUndefined();
    const healthy = await runLoad({ concurrency: 6, durationMs: 1_000, send: sendMixed });
    let pausedAt = 0;
    let before = { answered: 0, failed: 0, skipped: 0 };
    const report = await runLoad({
      concurrency: 6,
      durationMs: 2_500,
      send: sendMixed,
      during: async () => {
        await sleep(500);
        before = await cacheCommands();
        pausedAt = Date.now();
        redis.pause();
      },
    });
    const hungFor = Date.now() - pausedAt;
    const during = await cacheCommands();
    redis.resume();
    const hung = report.samples.filter((s) => s.startedAt >= pausedAt);
    console.info(
      `(e, slow) ${report.samples.length} requests, ${report.failures.length} failed; p50/p99 healthy ${p(healthy.samples, 50)}/${p(healthy.samples, 99)} ms, Redis hung ${p(hung, 50)}/${p(hung, 99)} ms`,
    );
    expect(report.failures.length, describeFailures(report.failures)).toBe(0);
    expect(hung.length).toBeGreaterThan(10);
    // A hung Redis costs a request at most a few command timeouts (150 ms), never a hang.
    expect(Math.max(...hung.map((s) => s.latencyMs))).toBeLessThan(2_000);
    // Counted by the stores themselves, not by latency (a loaded machine is slow without Redis's help):
    // per process, the commands in flight when Redis froze and the next three fail (150 ms each), then
    // Redis is skipped but for one probe a second (test/unit/lib/cacheStores.test.ts pins that down).
    const failed = during.failed - before.failed;
    const skipped = during.skipped - before.skipped;
    console.info(`(e, slow) cache commands while Redis hung (${hungFor} ms; router and 2 gateways): ${failed} failed, ${skipped} skipped, ${during.answered - before.answered} answered`);
    // What fails is what was sent before the third timeout (writes with their longer background timeout
    // among them), more on a loaded machine: skipped ÷ failed was 4.1 here and 2.96 in a loaded CI run.
    // Without the skipping every command would fail.
    expect(failed).toBeGreaterThan(0);
    expect(skipped).toBeGreaterThan(2 * failed);
  });

  it('(e) loses no request while Redis is down, and the caches use Redis again once it is back', async () => {
    for (let i = 0; i < 4; i++) expect((await sendMixed(i)).body.errors).toBeUndefined();
    const keysBefore = await redisKeys();
    expect(keysBefore.length).toBeGreaterThan(0);

    // Steady mixed load; Redis is killed halfway through. Phases end by request counts as well as
    // time, so a slow CI machine still sends each phase its share.
    const load = startLoad({ concurrency: 6, send: sendMixed });
    await waitUntil(() => load.count >= 20, 1_500);
    const stoppedAt = Date.now();
    const answeredAtStop = load.count;
    await redis.stop();
    await waitUntil(() => load.count - answeredAtStop >= 45, 1_500);
    const report = await load.stop();
    const before = report.samples.filter((s) => s.startedAt < stoppedAt);
    const after = report.samples.filter((s) => s.startedAt >= stoppedAt);
    console.info(
      `(e) ${report.samples.length} requests (${before.length} with Redis up, ${after.length} after it died), ${report.failures.length} failed; p50/p99 up ${p(before, 50)}/${p(before, 99)} ms, down ${p(after, 50)}/${p(after, 99)} ms; ${keysBefore.length} keys in Redis before`,
    );
    expect(report.failures.length, describeFailures(report.failures)).toBe(0);
    expect(after.length).toBeGreaterThan(30);
    expect(after.filter((s) => s.loop % 2 === 1 && s.body?.data?.me?.id !== 'u1')).toEqual([]);

    // Redis comes back empty; requests alone must bring the cached answers back into it.
    await redis.start();
    const restartedAt = Date.now();
    expect(await redisKeys()).toEqual([]);
    let sent = 0;
    await waitFor(async () => {
      await Promise.all([sendMixed(sent++), sendMixed(sent++)]);
      return (await redisKeys('sg:fb:users:p:u1:*')).length > 0;
    }, 10_000, 100);
    const backAfterMs = Date.now() - restartedAt;
    const keysAfter = await redisKeys();
    // sg:fb:<upstream>:… (fallbacks; upstream "gateway" is the router's), sg:rc:… (router response cache)
    const families = [...new Set(keysAfter.map((k) => k.split(':').slice(1, k.startsWith('sg:fb:') ? 3 : 2).join(':')))].sort();
    console.info(`(e) Redis restarted: users fallback entry back after ${backAfterMs} ms and ${sent} requests; ${keysAfter.length} keys (${families.join(', ')})`);
    expect(keysAfter.length).toBeGreaterThan(0);

    // Proof that the cache written after the restart is the one served: users down, me from Redis.
    await Promise.all([stack.kill('users-0'), stack.kill('users-1')]);
    try {
      const { status, body } = await postGraphQL(stack.routerUrl, { query: PRIVATE_QUERY }, bearer(DEMO_KEY));
      expect(status).toBe(200);
      expect(body.data!.me).toMatchObject({ id: 'u1', name: expect.any(String) });
      const [error] = body.errors!.filter((e) => e.path?.[0] === 'me');
      expect(error.extensions).toMatchObject({ code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'users' });
      expect(error.extensions!.fallback.source).toBe('cache');
      const cachedAt = Date.parse(error.extensions!.fallback.cachedAt);
      console.info(`(e) me served from a cache entry written ${cachedAt - restartedAt} ms after Redis came back`);
      expect(cachedAt).toBeGreaterThanOrEqual(restartedAt);
    } finally {
      await Promise.all([stack.restart('users-0'), stack.restart('users-1')]);
    }
  });
});
