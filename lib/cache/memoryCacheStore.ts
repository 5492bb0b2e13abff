import { LRUCache } from 'lru-cache';
import type { CacheStore } from './cacheStore.ts';

/** What an entry costs in memory, roughly: UTF-16 for key and value, and the LRU's own bookkeeping. */
export function stringEntrySize(key: string, value: string): number {
  return 2 * (key.length + value.length) + 64;
}

/**
 * The embedded default when no Redis is configured: an LRU with per-entry TTL, per process, bounded
 * in entries and in bytes (answers vary from a few bytes to megabytes: a count alone bounds nothing).
 */
export class MemoryCacheStore implements CacheStore {
  readonly kind = 'memory' as const;
  readonly available = true;
  private readonly entries: LRUCache<string, string>;
  private readonly tags = new Map<string, Set<string>>();
  /** The tags of each key, so an evicted entry leaves no trace in them. */
  private readonly tagsOf = new Map<string, Set<string>>();

  /** @param maxBytes @default 64 MiB */
  constructor(maxEntries = 10_000, maxBytes = 64 * 1024 * 1024) {
    this.entries = new LRUCache<string, string>({
      max: maxEntries,
      maxSize: maxBytes,
      sizeCalculation: (value, key) => stringEntrySize(key, value),
      ttlAutopurge: false,
      dispose: (_value, key) => this.untag(key),
    });
  }

  async get(key: string): Promise<string | undefined> {
    return this.entries.get(key);
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    // An entry larger than the whole cache is not kept (lru-cache would refuse it anyway).
    if (stringEntrySize(key, value) > this.entries.maxSize) return;
    this.entries.set(key, value, { ttl: ttlSeconds * 1000 });
  }

  async tag(tag: string, key: string): Promise<void> {
    if (!this.entries.has(key)) return;
    let keys = this.tags.get(tag);
    if (!keys) this.tags.set(tag, (keys = new Set()));
    keys.add(key);
    let tags = this.tagsOf.get(key);
    if (!tags) this.tagsOf.set(key, (tags = new Set()));
    tags.add(tag);
  }

  async invalidateTag(tag: string): Promise<void> {
    for (const key of [...(this.tags.get(tag) ?? [])]) this.entries.delete(key);
    this.tags.delete(tag);
  }

  /** Entries and bytes held now, for tests and metrics. */
  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.entries.calculatedSize };
  }

  private untag(key: string): void {
    for (const tag of this.tagsOf.get(key) ?? []) {
      const keys = this.tags.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.tags.delete(tag);
    }
    this.tagsOf.delete(key);
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.tags.clear();
    this.tagsOf.clear();
  }
}
