import { connectRedis, type RedisClient } from '../../lib/cache/connectRedis.ts';
import type { Logger } from 'pino';
import { emissionIntervalMs, gcraStep, toleranceMs } from './gcra.ts';
import type { RateDecision, RateLimiter, RatePolicy } from './rateLimiter.ts';

export interface RedisRateLimiterOptions {
  url: string;
  /** A check slower than this fails open. @default 150 */
  commandTimeoutMs?: number;
  /** Prefix of every key, so several deployments can share one Redis. @default "sg:rl:" */
  keyPrefix?: string;
  /**
   * Clock of the GCRA arithmetic, passed to the script so tests can drive time. Router instances
   * sharing a Redis should have synchronised clocks (NTP): a skew of d ms shifts a caller's
   * allowance by d ms, no more. @default Date.now
   */
  now?: () => number;
  logger?: Logger;
}

/**
 * The GCRA step of gcra.ts done atomically in one round trip, on the caller's one key (so on a
 * Redis Cluster the script runs on the node owning that key's slot): read the caller's TAT, decide, store
 * the new TAT with an expiry at the instant it no longer matters. It answers the stored TAT and
 * whether the request passed; the caller recomputes the rest with the same arithmetic.
 */
const GCRA_TAKE = `
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local stored = redis.call('GET', KEYS[1])
local tat = now
if stored then
  local t = tonumber(stored)
  if t and t > now then tat = t end
end
local nextTat = tat + interval * cost
if now < nextTat - tolerance then
  return {0, stored or ''}
end
redis.call('SET', KEYS[1], string.format('%.3f', nextTat), 'PX', math.max(1, math.ceil(nextTat - now)))
return {1, stored or ''}
`;

type GcraRedis = RedisClient & {
  gcraTake(key: string, now: string, interval: string, tolerance: string, cost: string): Promise<[number, string]>;
};

/**
 * The limiter every router instance shares through Redis. Redis trouble never refuses a request: a
 * failed or slow check lets the request through, marked `failedOpen`; after three failures in
 * a row Redis is skipped for a second, so a hung Redis costs one timeout per second, not per request.
 */
export function createRedisRateLimiter(options: RedisRateLimiterOptions): RateLimiter & { readonly available: boolean } {
  const { now = Date.now, logger } = options;
  const redis = connectRedis(options.url, {
    keyPrefix: options.keyPrefix ?? 'sg:rl:',
    commandTimeout: options.commandTimeoutMs ?? 150,
    connectTimeout: 1_000,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => Math.min(100 * times, 2_000),
  }) as GcraRedis;
  redis.defineCommand('gcraTake', { numberOfKeys: 1, lua: GCRA_TAKE });
  let failures = 0;
  let skipUntil = 0;
  let warned = false;
  redis.on('error', () => {
    if (!warned) logger?.warn('rate-limit redis unavailable; requests are let through uncounted');
    warned = true;
  });
  redis.on('ready', () => {
    if (warned) logger?.warn('rate-limit redis is back');
    warned = false;
  });

  // Counted by the caller (useRateLimit), which owns the metrics.
  const failOpen = (policy: RatePolicy): RateDecision => {
    return { allowed: true, policy, remaining: policy.burst ?? policy.limit, retryAfterMs: 0, resetMs: 0, failedOpen: true };
  };

  return {
    kind: 'redis',
    get available() {
      return redis.status === 'ready' && now() >= skipUntil;
    },
    async take(partition, policy, cost = 1) {
      const at = now();
      if (redis.status !== 'ready' || at < skipUntil) return failOpen(policy);
      try {
        const [allowed, stored] = await redis.gcraTake(
          partition,
          String(at),
          String(emissionIntervalMs(policy)),
          String(toleranceMs(policy)),
          String(cost),
        );
        failures = 0;
        const step = gcraStep(stored === '' ? undefined : Number(stored), at, policy, cost);
        // The script's verdict is the one that was stored; the arithmetic above only describes it.
        return { ...step.decision, allowed: allowed === 1, policy };
      } catch (error) {
        failures += 1;
        if (failures >= 3) {
          failures = 0;
          skipUntil = now() + 1_000;
          logger?.warn({ err: error }, 'rate-limit redis is not answering; skipping it for a second');
        }
        return failOpen(policy);
      }
    },
    async close() {
      try {
        await redis.quit();
      } catch {
        redis.disconnect();
      }
    },
  };
}
