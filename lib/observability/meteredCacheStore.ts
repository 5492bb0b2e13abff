import { Counter, type Registry } from 'prom-client';
import type { CacheStore } from '../cache/cacheStore.ts';

/** Which cache a key belongs to, by the prefix its owner gives it. */
const CACHES: ReadonlyArray<[prefix: string, cache: string]> = [
  ['rc:', 'response'],
  ['fb:', 'fallback'],
  ['apq:', 'persisted_query'],
];

/**
 * The same store, counting lookups as hits and misses per cache (`cache_lookups_total`): the response
 * cache, the stale-if-error fallbacks and automatic persisted queries share one store, told apart by
 * their key prefixes. A miss includes a lookup skipped because the store was down.
 */
export function meteredCacheStore(store: CacheStore, registry: Registry): CacheStore {
  const lookups = new Counter({
    name: 'cache_lookups_total',
    help: 'Cache lookups by cache (response, fallback, persisted_query) and result (hit, miss)',
    labelNames: ['cache', 'result'] as const,
    registers: [registry],
  });
  const counters = new Map(
    [...CACHES.map(([, cache]) => cache), 'other'].map((cache) => [cache, { hit: lookups.labels(cache, 'hit'), miss: lookups.labels(cache, 'miss') }]),
  );
  // Read from the store at scrape time: how often Redis answered, failed (a timeout) or was skipped.
  if (store.commands) {
    const commands = store.commands;
    new Counter({
      name: 'cache_store_commands_total',
      help: 'Commands to the shared cache store (Redis) by result: answered, failed (error or timeout), skipped (down, or hung and skipped)',
      labelNames: ['result'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const [result, count] of Object.entries(commands)) this.labels(result).inc(count);
      },
    });
  }
  const countersOf = (key: string) => counters.get(CACHES.find(([prefix]) => key.startsWith(prefix))?.[1] ?? 'other')!;
  return {
    get kind() {
      return store.kind;
    },
    get available() {
      return store.available;
    },
    get commands() {
      return store.commands;
    },
    async get(key, options) {
      const value = await store.get(key, options);
      countersOf(key)[value === undefined ? 'miss' : 'hit'].inc();
      return value;
    },
    set: (key, value, ttl) => store.set(key, value, ttl),
    tag: (tag, key, ttl) => store.tag(tag, key, ttl),
    invalidateTag: (tag) => store.invalidateTag(tag),
    close: () => store.close(),
  };
}
