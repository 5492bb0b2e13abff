import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMemoryRateLimiter } from '../../../router/rateLimit/memoryRateLimiter.ts';
import type { RateLimiter, RatePolicy } from '../../../router/rateLimit/rateLimiter.ts';
import { createRedisRateLimiter } from '../../../router/rateLimit/redisRateLimiter.ts';
import { startRedisServer, type RedisServer } from '../../support/redisServer.ts';
import { edgeRouter, type EdgeRouter } from './edgeRouter.ts';

// A real redis-server, killed and frozen to inject faults; the limiters run on a test clock.
let redis: RedisServer;
let now = 5_000_000;
const clock = () => now;
const closing: Array<() => Promise<unknown>> = [];
beforeAll(async () => {
  redis = await startRedisServer();
});
afterEach(async () => {
  await Promise.all(closing.splice(0).map((close) => close()));
});
afterAll(() => redis.stop());

// A generous command timeout (a loaded CI machine must not fail open by accident), short only where
// a hang is the point.
async function redisLimiter(keyPrefix: string, commandTimeoutMs = 2_000) {
  const limiter = createRedisRateLimiter({ url: redis.url, keyPrefix, now: clock, commandTimeoutMs });
  closing.push(() => limiter.close());
  await vi.waitFor(() => expect(limiter.available).toBe(true), { timeout: 5_000, interval: 20 });
  return limiter;
}

function routerWith(limiter: RateLimiter, anonymousLimit: number): EdgeRouter {
  const edge = edgeRouter({ rateLimiter: limiter, edge: { rateLimit: { anonymous: { limit: anonymousLimit, windowSeconds: 60 } } } });
  closing.push(() => edge.router.close());
  return edge;
}

const MODELS = { query: '{ models { id } }' };

describe('Redis rate limiter', () => {
  it('decides exactly as the in-memory limiter does, in one atomic script', async () => {
    const shared = await redisLimiter('t1:');
    const memory = createMemoryRateLimiter({ now: clock });
    const policy: RatePolicy = { name: 'p', limit: 4, windowSeconds: 2, burst: 2 };
    const steps = [0, 0, 0, 100, 499, 500, 1_250, 1_250, 1_250, 9_000];
    const start = now;
    for (const at of steps) {
      now = start + at;
      const [fromRedis, fromMemory] = [await shared.take('caller', policy), await memory.take('caller', policy)];
      expect(fromRedis).toEqual(fromMemory);
    }
    // Concurrent takes never over-admit: the script reads and writes in one step.
    now += 60_000;
    const burst = await Promise.all(Array.from({ length: 20 }, () => shared.take('racer', policy)));
    expect(burst.filter((d) => d.allowed)).toHaveLength(2);
  });

  it('shares one allowance between two router instances on one Redis', async () => {
    const [a, b] = [routerWith(await redisLimiter('t2:'), 4), routerWith(await redisLimiter('t2:'), 4)];
    const answers = [];
    for (const router of [a, b, a, b, a, b]) answers.push(await router.post(MODELS));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 429, 429]);
    expect(answers.slice(0, 4).map((r) => r.headers.get('ratelimit'))).toEqual([
      '"anonymous";r=3;t=15',
      '"anonymous";r=2;t=30',
      '"anonymous";r=1;t=45',
      '"anonymous";r=0;t=60',
    ]);
    expect(answers[5].headers.get('retry-after')).toBe('15');
  });

  it('fails open while Redis is down, counts every such request, and limits again once it is back', async () => {
    const limiter = await redisLimiter('t3:');
    const edge = routerWith(limiter, 1);
    const { url } = await edge.router.listen(0, '127.0.0.1');
    const admin = await edge.router.listenAdmin(0, '127.0.0.1');
    const send = () => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(MODELS) });
    const failures = async () => {
      const text = await (await fetch(`${admin.url}/metrics`)).text();
      return Number(text.match(/^rate_limit_store_failures_total(?:\{[^}]*\})? (\d+)/m)?.[1] ?? NaN);
    };
    expect((await send()).status).toBe(200);
    expect((await send()).status).toBe(429);
    expect(await failures()).toBe(0);

    await redis.stop();
    for (let i = 0; i < 3; i++) {
      const open = await send();
      expect(open.status).toBe(200);
      expect(open.headers.get('ratelimit-policy')).toBe('"anonymous";q=1;w=60');
      expect(open.headers.get('ratelimit')).toBeNull(); // the remainder is unknown
    }
    expect(await failures()).toBe(3);

    await redis.start();
    now += 2_000; // past the second for which a failing Redis is skipped
    await vi.waitFor(() => expect(limiter.available).toBe(true), { timeout: 10_000, interval: 50 });
    expect((await send()).status).toBe(200);
    expect((await send()).status).toBe(429);
  });

  it('fails open within the command timeout when Redis hangs, then skips it instead of waiting each time', async () => {
    const limiter = await redisLimiter('t4:', 150);
    const policy: RatePolicy = { name: 'p', limit: 1, windowSeconds: 60 };
    expect((await limiter.take('hung', policy)).allowed).toBe(true);
    redis.pause();
    try {
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        expect(await limiter.take('hung', policy)).toMatchObject({ allowed: true, failedOpen: true });
        expect(performance.now() - started).toBeLessThan(1_500);
      }
      const started = performance.now();
      expect(await limiter.take('hung', policy)).toMatchObject({ allowed: true, failedOpen: true });
      expect(performance.now() - started).toBeLessThan(100); // skipped, not waited for the 150 ms timeout
    } finally {
      redis.resume();
    }
    now += 1_001;
    await vi.waitFor(async () => expect((await limiter.take('hung', policy)).failedOpen).toBeUndefined(), { timeout: 5_000, interval: 50 });
    expect((await limiter.take('hung', policy)).allowed).toBe(false);
  });
});
