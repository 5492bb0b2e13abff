/** One quota: `limit` requests per `windowSeconds`, up to `burst` of them at once. */
export interface RatePolicy {
  /** Shown to clients in the RateLimit fields, e.g. "pro" or "anonymous". */
  name: string;
  limit: number;
  windowSeconds: number;
  /** @default limit */
  burst?: number;
}

/** What the limiter decided for one request. */
export interface RateDecision {
  allowed: boolean;
  policy: RatePolicy;
  /** Requests still allowed right now (0 when refused). */
  remaining: number;
  /** When refused: how long until one request is allowed again. */
  retryAfterMs: number;
  /** How long until the allowance is whole again. */
  resetMs: number;
  /** Set when the shared store could not be asked and the request was let through. */
  failedOpen?: true;
}

/** Counts requests per partition (an API key, a client address) against a policy. */
export interface RateLimiter {
  readonly kind: 'redis' | 'memory';
  /** Takes `cost` requests from the partition's allowance, or refuses without taking any. Never rejects. */
  take(partition: string, policy: RatePolicy, cost?: number): Promise<RateDecision>;
  close(): Promise<void>;
}
