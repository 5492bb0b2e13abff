import { CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  /** Consecutive failed calls that open the breaker. @default 5 */
  consecutiveFailures?: number;
  /** Time an open breaker waits before one trial call. @default 3000 */
  halfOpenAfterMs?: number;
  /** Which errors count as failures of the upstream. */
  isFailure: (error: unknown) => boolean;
}

/** A cockatiel circuit breaker (closed → open → half-open) with our thresholds and state names. */
export function createBreaker(options: BreakerOptions): CircuitBreakerPolicy {
  return circuitBreaker(handleWhen(options.isFailure), {
    halfOpenAfter: options.halfOpenAfterMs ?? 3_000,
    breaker: new ConsecutiveBreaker(options.consecutiveFailures ?? 5),
  });
}

export function breakerState(policy: CircuitBreakerPolicy): BreakerState {
  switch (policy.state) {
    case CircuitState.Closed:
      return 'closed';
    case CircuitState.HalfOpen:
      return 'half_open';
    default:
      return 'open';
  }
}
