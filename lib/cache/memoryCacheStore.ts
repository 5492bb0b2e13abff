import { LRUCache } from 'lru-cache';
import type { CacheStore } from './cacheStore.ts';

/** The embedded default when no Redis is configured: a bounded LRU with per-entry TTL, per process. */
export class MemoryCacheStore implements CacheStore {
  readonly kind = 'memory' as const;
  readonly available = true;
  private readonly entries: LRUCache<string, string>;
  private readonly tags = new Map<string, Set<string>>();

  constructor(maxEntries = 10_000) {
    this.entries = new LRUCache<string, string>({ max: maxEntries, ttlAutopurge: false });
  }

  async get(key: string): Promise<string | undefined> {
    return this.entries.get(key);
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.entries.set(key, value, { ttl: ttlSeconds * 1000 });
  }

  async tag(tag: string, key: string): Promise<void> {
    let keys = this.tags.get(tag);
    if (!keys) this.tags.set(tag, (keys = new Set()));
    keys.add(key);
  }

  async invalidateTag(tag: string): Promise<void> {
    for (const key of this.tags.get(tag) ?? []) this.entries.delete(key);
    this.tags.delete(tag);
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.tags.clear();
  }
}
