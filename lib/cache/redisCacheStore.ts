import { connectRedis, type RedisClient } from './connectRedis.ts';
import type { Logger } from 'pino';
import type { CacheStore } from './cacheStore.ts';

export interface RedisCacheStoreOptions {
  /** redis://, redis-sentinel:// or redis-cluster:// (connectRedis.ts). */
  url: string;
  /** A lookup a request waits for, slower than this, is abandoned and treated as a miss. @default 150 */
  commandTimeoutMs?: number;
  /** Deadline of writes and patient lookups, which no request waits on. @default 1000 */
  backgroundCommandTimeoutMs?: number;
  /** Prefix of every key, so several deployments can share one Redis. @default "sg:" */
  keyPrefix?: string;
  logger?: Logger;
}

/**
 * Redis through ioredis, tuned so Redis trouble never reaches a request: no offline queue (a command
 * while disconnected fails at once instead of waiting), a short command timeout, no per-command
 * retries, and reconnection forever with capped backoff so the cache comes back on its own.
 */
export class RedisCacheStore implements CacheStore {
  readonly kind = 'redis' as const;
  private readonly redis: RedisClient;
  private readonly logger?: Logger;
  private down = false;
  /** Consecutive failed commands; a run of them means Redis hangs, so it is skipped for a while. */
  private failures = 0;
  /** Epoch ms until which Redis is skipped after a run of timeouts; 0 while it answers. */
  private skipUntil = 0;
  /** A probe command is out: until it answers or fails, Redis stays skipped. */
  private probing = false;
  readonly commands = { answered: 0, failed: 0, skipped: 0 };
  private readonly lookupTimeoutMs: number;

  constructor(options: RedisCacheStoreOptions) {
    this.logger = options.logger;
    this.lookupTimeoutMs = options.commandTimeoutMs ?? 150;
    this.redis = connectRedis(options.url, {
      keyPrefix: options.keyPrefix ?? 'sg:',
      // Every command's outer bound; a lookup on a request's path is cut shorter in get().
      commandTimeout: Math.max(this.lookupTimeoutMs, options.backgroundCommandTimeoutMs ?? 1_000),
      connectTimeout: 1_000,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (times) => Math.min(100 * times, 2_000),
      lazyConnect: false,
    });
    this.redis.on('error', () => this.markDown());
    this.redis.on('end', () => this.markDown());
    this.redis.on('ready', () => {
      if (this.down) this.logger?.warn('redis is back; caching resumes');
      this.down = false;
    });
  }

  private markDown(): void {
    if (!this.down) this.logger?.warn('redis unavailable; requests go on without the cache');
    this.down = true;
  }

  /**
   * Connected, and not in a hang: a Redis that accepts connections but answers nothing (overloaded,
   * stopped) would cost every request a command timeout, so after three timeouts in a row it is
   * skipped for a second. Then one command probes it (the others still skip it) until one answers,
   * so a Redis that stays hung costs one command timeout a second, not one per request.
   */
  get available(): boolean {
    return this.redis.status === 'ready' && Date.now() >= this.skipUntil && !this.probing;
  }

  private async run<T>(command: () => Promise<T>): Promise<T | undefined> {
    if (!this.available) {
      this.commands.skipped += 1;
      return undefined;
    }
    const probe = this.skipUntil !== 0;
    if (probe) this.probing = true;
    try {
      const result = await command();
      this.commands.answered += 1;
      if (probe) this.logger?.warn('redis answers again; caching resumes');
      this.failures = 0;
      this.skipUntil = 0;
      return result;
    } catch {
      this.commands.failed += 1;
      this.failures += 1;
      if (probe || this.failures >= 3) {
        if (!probe) this.logger?.warn('redis is not answering; skipping it, probing it once a second');
        this.skipUntil = Date.now() + 1_000;
        this.failures = 0;
      }
      return undefined;
    } finally {
      if (probe) this.probing = false;
    }
  }

  async get(key: string, options?: { patient?: boolean }): Promise<string | undefined> {
    const lookup = () => this.redis.get(key);
    return (await this.run(options?.patient ? lookup : () => withTimeout(lookup(), this.lookupTimeoutMs))) ?? undefined;
  }

  // Writes that fail are dropped: a cache write is never worth failing a request for.
  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    await this.run(() => this.redis.set(key, value, 'EX', ttlSeconds));
  }

  async tag(tag: string, key: string, ttlSeconds: number): Promise<void> {
    // Members are stored unprefixed; ioredis prefixes them again when invalidateTag deletes them.
    await this.run(() => this.redis.multi().sadd(tag, key).expire(tag, ttlSeconds).exec());
  }

  // A missed invalidation is bounded by the entries' short TTL. One DEL per key, not one DEL of all:
  // on a Cluster the tagged entries live in any slot, and a multi-key command must stay in one.
  async invalidateTag(tag: string): Promise<void> {
    await this.run(async () => {
      const keys = await this.redis.smembers(tag);
      await Promise.all(keys.map((key) => this.redis.del(key)));
      await this.redis.del(tag);
    });
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}

/** The command's answer, or a rejection after `ms` (the command itself runs on and is ignored). */
function withTimeout<T>(command: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`cache lookup over ${ms} ms`)), ms);
  });
  return Promise.race([command, deadline]).finally(() => clearTimeout(timer));
}
