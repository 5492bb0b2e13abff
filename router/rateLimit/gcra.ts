import type { RateDecision, RatePolicy } from './rateLimiter.ts';

/**
 * GCRA (the generic cell rate algorithm, a token bucket kept as one timestamp): each partition
 * stores its "theoretical arrival time" (TAT), the instant its allowance would be whole again if
 * nothing else arrived. A request moves the TAT on by one emission interval (window / limit) and is
 * allowed when the new TAT is at most `burst` intervals ahead of now. One number per caller, no
 * timers, no window edges where a client can send twice its quota, and the same arithmetic runs in
 * memory and in the Redis script (redisRateLimiter.ts), so both answer alike.
 */
export interface GcraStep {
  decision: Omit<RateDecision, 'policy'>;
  /** The TAT to store; undefined when the request was refused and nothing changes. */
  nextTat?: number;
}

export function emissionIntervalMs(policy: RatePolicy): number {
  return (policy.windowSeconds * 1000) / policy.limit;
}

export function toleranceMs(policy: RatePolicy): number {
  return emissionIntervalMs(policy) * (policy.burst ?? policy.limit);
}

/** One GCRA step from the stored TAT (undefined for a caller never seen or long rested). */
export function gcraStep(storedTat: number | undefined, now: number, policy: RatePolicy, cost = 1): GcraStep {
  const interval = emissionIntervalMs(policy);
  const tolerance = toleranceMs(policy);
  const tat = Math.max(storedTat ?? now, now);
  const nextTat = tat + interval * cost;
  const allowAt = nextTat - tolerance;
  if (now < allowAt) {
    return { decision: { allowed: false, remaining: 0, retryAfterMs: allowAt - now, resetMs: tat - now } };
  }
  // Rounded with a hair of slack: binary fractions of the interval must not hide a whole request.
  const remaining = Math.max(0, Math.floor((tolerance - (nextTat - now)) / interval + 1e-9));
  return { decision: { allowed: true, remaining, retryAfterMs: 0, resetMs: nextTat - now }, nextTat };
}
