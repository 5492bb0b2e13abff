import { LRUCache } from 'lru-cache';
import { gcraStep } from './gcra.ts';
import type { RateDecision, RateLimiter, RatePolicy } from './rateLimiter.ts';

export interface MemoryRateLimiterOptions {
  /** Partitions tracked at most; the least recently seen is forgotten first (and starts rested). @default 100000 */
  maxPartitions?: number;
  /** @default Date.now */
  now?: () => number;
}

/** The limiter without Redis: per router process, so N routers allow N times the policy. */
export function createMemoryRateLimiter(options: MemoryRateLimiterOptions = {}): RateLimiter {
  const { maxPartitions = 100_000, now = Date.now } = options;
  // Only TATs are kept; a TAT in the past reads as a rested caller, so entries need no expiry.
  const tats = new LRUCache<string, number>({ max: maxPartitions });
  return {
    kind: 'memory',
    async take(partition: string, policy: RatePolicy, cost = 1): Promise<RateDecision> {
      const step = gcraStep(tats.get(partition), now(), policy, cost);
      if (step.nextTat !== undefined) tats.set(partition, step.nextTat);
      return { ...step.decision, policy };
    },
    async close() {
      tats.clear();
    },
  };
}
