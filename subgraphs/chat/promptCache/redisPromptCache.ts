import type { RedisClient } from '../../../lib/cache/connectRedis.ts';
import type { Logger } from 'pino';
import type { CachedAnswer, PromptCache } from './promptCache.ts';

/** The prompt cache in Redis (`chat:prompt:<key>` with a TTL), when REDIS_URL is set. */
export class RedisPromptCache implements PromptCache {
  readonly kind = 'redis' as const;

  constructor(private readonly redis: RedisClient, private readonly logger?: Logger) {}

  async get(key: string): Promise<CachedAnswer | undefined> {
    try {
      const value = await this.redis.get(`chat:prompt:${key}`);
      return value ? (JSON.parse(value) as CachedAnswer) : undefined;
    } catch (error) {
      this.logger?.warn({ err: error }, 'prompt cache lookup failed; answering without it');
      return undefined;
    }
  }

  async set(key: string, answer: CachedAnswer, ttlSeconds: number): Promise<void> {
    try {
      await this.redis.set(`chat:prompt:${key}`, JSON.stringify(answer), 'EX', ttlSeconds);
    } catch (error) {
      this.logger?.warn({ err: error }, 'prompt cache write failed');
    }
  }
}
