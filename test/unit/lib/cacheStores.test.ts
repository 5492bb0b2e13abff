import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FallbackCache } from '../../../lib/fallback/fallbackCache.ts';
import { MemoryCacheStore } from '../../../lib/cache/memoryCacheStore.ts';
import { RedisCacheStore } from '../../../lib/cache/redisCacheStore.ts';
import { waitFor } from '../../support/graphqlClient.ts';
import { startRedisServer, type RedisServer } from '../../support/redisServer.ts';

let redis: RedisServer;
let store: RedisCacheStore;

beforeAll(async () => {
  redis = await startRedisServer();
  store = new RedisCacheStore({ url: redis.url, commandTimeoutMs: 100 });
  await waitFor(() => store.available, 5_000);
});
afterAll(async () => {
  await store?.close();
  await redis?.stop();
});

describe('RedisCacheStore (real redis-server)', () => {
  it('stores, reads and invalidates by tag', async () => {
    await store.set('k1', 'v1', 60);
    await store.set('k2', 'v2', 60);
    await store.tag('Article', 'k1', 60);
    expect(await store.get('k1')).toBe('v1');
    await store.invalidateTag('Article');
    expect(await store.get('k1')).toBeUndefined();
    expect(await store.get('k2')).toBe('v2');
  });

  it('answers misses at once while Redis is down, and reconnects by itself when it returns', async () => {
    await redis.stop();
    await waitFor(() => !store.available, 5_000);
    const started = performance.now();
    expect(await store.get('k2')).toBeUndefined();
    await store.set('k3', 'v3', 60); // dropped, no throw
    expect(performance.now() - started).toBeLessThan(50);
    await redis.start();
    await waitFor(() => store.available, 10_000);
    await store.set('k4', 'v4', 60);
    expect(await store.get('k4')).toBe('v4');
  });
});

describe('RedisCacheStore with a hung Redis (SIGSTOP)', () => {
  it('skips it after three timeouts, then lets one command a second probe it while the rest skip it', async () => {
    await store.set('hung', 'v', 60);
    redis.pause();
    try {
      const timed = async (command: () => Promise<unknown>) => {
        const started = performance.now();
        await command();
        return performance.now() - started;
      };
      // Three timeouts in a row (100 ms each here), then it is skipped.
      for (let i = 0; i < 3; i++) expect(await timed(() => store.get('hung'))).toBeGreaterThanOrEqual(90);
      expect(store.available).toBe(false);
      expect(await timed(() => store.get('hung'))).toBeLessThan(50);
      // A second later, eight requests at once: one probe waits out the timeout, the others skip Redis.
      await new Promise((resolve) => setTimeout(resolve, 1_050));
      const waits = await Promise.all(Array.from({ length: 8 }, () => timed(() => store.get('hung'))));
      expect(waits.filter((ms) => ms >= 90)).toHaveLength(1);
      expect(store.available).toBe(false); // the probe failed: skipped for another second
    } finally {
      redis.resume();
    }
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    expect(await store.get('hung')).toBe('v'); // the probe answers: Redis is used again
    expect(store.available).toBe(true);
  });
});

describe('RedisCacheStore deadlines', () => {
  it('gives a patient lookup (stale-if-error) and a write the background deadline, a request path lookup the short one', async () => {
    const patientStore = new RedisCacheStore({ url: redis.url, commandTimeoutMs: 100, backgroundCommandTimeoutMs: 400 });
    await waitFor(() => patientStore.available, 5_000);
    await patientStore.set('slow-entry', 'kept', 60);
    redis.pause();
    // Resumed while the patient lookup still waits: its answer arrives within the background deadline.
    setTimeout(() => redis.resume(), 250);
    try {
      const fast = performance.now();
      expect(await patientStore.get('slow-entry')).toBeUndefined();
      expect(performance.now() - fast).toBeLessThan(250);
      expect(await patientStore.get('slow-entry', { patient: true })).toBe('kept');
    } finally {
      redis.resume();
      await patientStore.close();
    }
  });
});

describe('FallbackCache', () => {
  it('keys entries by principal so one principal never reads another one’s answer', async () => {
    let now = 1_000;
    const cache = new FallbackCache(new MemoryCacheStore(), 60, () => now);
    const alice = cache.key('users', '{ me { id } }', '{}', { kind: 'principal', id: 'u1' });
    const bob = cache.key('users', '{ me { id } }', '{}', { kind: 'principal', id: 'u2' });
    const everyone = cache.key('articles', '{ articles { id } }', '{}', { kind: 'public' });
    cache.remember(alice, { me: { id: 'u1' } });
    cache.remember(everyone, { articles: [] });
    now += 250;
    expect(await cache.recall(bob)).toBeUndefined();
    expect(await cache.recall(alice)).toEqual({
      data: { me: { id: 'u1' } },
      fallback: { source: 'cache', cachedAt: new Date(1_000).toISOString(), ageMs: 250 },
    });
    expect((await cache.recall(everyone))?.data).toEqual({ articles: [] });
  });
});

describe('MemoryCacheStore bounds', () => {
  it('holds at most its bytes, evicting the least recently used, and forgets the tags of what it evicted', async () => {
    const store = new MemoryCacheStore(10_000, 100_000);
    const big = 'x'.repeat(10_000); // ~20 KB an entry in memory
    for (let i = 0; i < 20; i++) {
      await store.set(`k${i}`, big, 60);
      await store.tag('Article', `k${i}`);
    }
    expect(store.size.bytes).toBeLessThanOrEqual(100_000);
    expect(store.size.entries).toBeLessThan(20);
    expect(await store.get('k0')).toBeUndefined();
    expect(await store.get('k19')).toBe(big);
    // An entry larger than the whole store is not kept.
    await store.set('huge', 'y'.repeat(60_000), 60);
    expect(await store.get('huge')).toBeUndefined();
    await store.invalidateTag('Article');
    expect(store.size.entries).toBe(0);
  });
});
