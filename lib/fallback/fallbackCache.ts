import { createHash } from 'node:crypto';
import type { CacheStore } from '../cache/cacheStore.ts';
import type { FallbackExtension } from '../errors.ts';

export interface CachedAnswer {
  data: unknown;
  fallback: Extract<FallbackExtension, { source: 'cache' }>;
}

/** Whose data an entry is: one principal's, or everyone's when the data is declared public. */
export type CacheScopeKey = { kind: 'public' } | { kind: 'principal'; id: string };

/**
 * The stale-if-error store: the last good answer of each (upstream, operation, variables, scope).
 * The scope is part of the key, so an entry can only ever be found again by the principal it was
 * stored for (or by anyone, for public data).
 */
export class FallbackCache {
  constructor(
    private readonly store: CacheStore,
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** `variablesJson` is the variables already serialised (once per request, under the request's size guard). */
  key(upstream: string, query: string, variablesJson: string, scope: CacheScopeKey): string {
    const scopeId = scope.kind === 'public' ? 'public' : `p:${scope.id}`;
    const digest = createHash('sha256').update(query).update('\0').update(variablesJson).digest('base64url');
    return `fb:${upstream}:${scopeId}:${digest}`;
  }

  /** Stores a good answer; never waits on, or fails because of, the cache. */
  remember(key: string, data: unknown): void {
    void this.store.set(key, JSON.stringify({ data, cachedAt: this.now() }), this.ttlSeconds);
  }

  /**
   * Stores a clean answer as the bytes it came in (`{"data":…}`, see isCleanDataBody): the entry is
   * the same JSON remember writes, without parsing and re-serialising the answer first.
   */
  rememberBody(key: string, cleanBody: string): void {
    void this.store.set(key, `{"cachedAt":${this.now()},${cleanBody.slice(1)}`, this.ttlSeconds);
  }

  async recall(key: string): Promise<CachedAnswer | undefined> {
    const raw = await this.store.get(key, { patient: true });
    if (!raw) return undefined;
    try {
      const entry = JSON.parse(raw) as { data: unknown; cachedAt: number };
      return {
        data: entry.data,
        // An entry from a clock slightly ahead (another host) is not "from the future".
        fallback: { source: 'cache', cachedAt: new Date(entry.cachedAt).toISOString(), ageMs: Math.max(0, this.now() - entry.cachedAt) },
      };
    } catch {
      return undefined;
    }
  }
}
