import type { RateDecision } from './rateLimiter.ts';

/**
 * The IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers-10/11, structured-field form):
 * `RateLimit-Policy: "pro";q=3000;w=60` (the quota) and `RateLimit: "pro";r=2999;t=1` (what is
 * left, and the seconds until the allowance is whole again), plus `Retry-After` on a refusal. When
 * the shared store could not be asked, only the policy is sent: the remainder is unknown.
 */
export function rateLimitHeaders(decision: RateDecision): Record<string, string> {
  const { policy } = decision;
  const name = structuredString(policy.name);
  const headers: Record<string, string> = { 'RateLimit-Policy': `${name};q=${policy.limit};w=${policy.windowSeconds}` };
  if (decision.failedOpen) return headers;
  headers['RateLimit'] = `${name};r=${decision.remaining};t=${Math.max(0, Math.ceil(decision.resetMs / 1000))}`;
  if (!decision.allowed) headers['Retry-After'] = String(retryAfterSeconds(decision));
  return headers;
}

/** Whole seconds to wait, never 0 for a refusal (a client would retry at once and be refused again). */
export function retryAfterSeconds(decision: RateDecision): number {
  return Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
}

const quoted = new Map<string, string>();

/** An sf-string (RFC 8941 §3.3.3): printable ASCII, with `"` and `\` escaped; policies are few, so each is quoted once. */
function structuredString(value: string): string {
  let known = quoted.get(value);
  if (known === undefined) {
    known = `"${value.replace(/[^\x20-\x7e]/g, '').replace(/["\\]/g, (c) => `\\${c}`)}"`;
    if (quoted.size < 1_000) quoted.set(value, known);
  }
  return known;
}
