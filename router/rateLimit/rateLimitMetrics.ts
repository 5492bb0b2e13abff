import { Counter, type Registry } from 'prom-client';

export interface RateLimitMetrics {
  /** A check let through because the shared store could not be asked (fail open). */
  countStoreFailure(): void;
  /** A request refused with RATE_LIMITED, by policy. */
  countRefused(policy: string): void;
}

/** Rate-limit counters on the router's registry (the one its admin /metrics serves). */
export function createRateLimitMetrics(registry?: Registry): RateLimitMetrics {
  if (!registry) return { countStoreFailure() {}, countRefused() {} };
  const failures = new Counter({
    name: 'rate_limit_store_failures_total',
    help: 'Rate-limit checks let through because Redis could not be asked (fail open)',
    registers: [registry],
  });
  const refused = new Counter({
    name: 'rate_limited_requests_total',
    help: 'Requests refused with RATE_LIMITED, by policy',
    labelNames: ['policy'] as const,
    registers: [registry],
  });
  return { countStoreFailure: () => failures.inc(), countRefused: (policy) => refused.inc({ policy }) };
}
