/**
 * The shared cache behind the fallback store and the fresh response cache. Implementations never
 * throw: a cache that is down, slow or full answers "miss" and drops writes, so cache trouble never
 * breaks a request.
 */
export interface CacheStore {
  readonly kind: 'redis' | 'memory';
  /**
   * `patient`: nobody waits on this lookup's speed (a stale-if-error read, made after an upstream
   * failed), so it gets the background deadline instead of the request path's short one.
   */
  get(key: string, options?: { patient?: boolean }): Promise<string | undefined>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Adds keys to a tag so they can be dropped together (a mutation invalidating a type). */
  tag(tag: string, key: string, ttlSeconds: number): Promise<void>;
  /** Deletes every key under the tag, and the tag. */
  invalidateTag(tag: string): Promise<void>;
  /** True while the store can be reached. */
  readonly available: boolean;
  /** Commands sent to a remote store by outcome, for metrics: answered, failed (error or timeout), skipped (down or hung). */
  readonly commands?: Readonly<Record<CacheCommandResult, number>>;
  close(): Promise<void>;
}

export type CacheCommandResult = 'answered' | 'failed' | 'skipped';
