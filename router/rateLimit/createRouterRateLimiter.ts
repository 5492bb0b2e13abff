import type { Logger } from 'pino';
import type { Config } from '../../lib/config.ts';
import { createMemoryRateLimiter } from './memoryRateLimiter.ts';
import type { RateLimiter } from './rateLimiter.ts';
import { createRedisRateLimiter } from './redisRateLimiter.ts';

/** Redis (shared by every router) when `REDIS_URL` is set, else in memory (per router). */
export function createRouterRateLimiter(options: { config: Config; logger?: Logger; now?: () => number }): RateLimiter {
  const { config, logger, now } = options;
  if (config.cache.redisUrl) {
    return createRedisRateLimiter({ url: config.cache.redisUrl, commandTimeoutMs: config.cache.commandTimeoutMs, logger, now });
  }
  return createMemoryRateLimiter({ maxPartitions: config.edge.rateLimit.memoryMaxCallers, now });
}
