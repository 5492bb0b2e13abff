import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { CacheStore } from './cacheStore.ts';
import { MemoryCacheStore } from './memoryCacheStore.ts';
import { RedisCacheStore } from './redisCacheStore.ts';

/** Redis when `REDIS_URL` is set, else the in-memory stand-in. */
export function createCacheStore(config: Config['cache'], logger?: Logger): CacheStore {
  if (config.redisUrl) {
    return new RedisCacheStore({ url: config.redisUrl, commandTimeoutMs: config.commandTimeoutMs, backgroundCommandTimeoutMs: config.backgroundCommandTimeoutMs, logger });
  }
  return new MemoryCacheStore(config.memoryMaxEntries, config.memoryMaxBytes);
}
