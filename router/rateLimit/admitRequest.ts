import type { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { rateLimited } from '../../lib/errors.ts';
import type { IdentifyCaller } from './identifyCaller.ts';
import { rateLimitHeaders, retryAfterSeconds } from './rateLimitHeaders.ts';
import type { RateLimitMetrics } from './rateLimitMetrics.ts';
import type { RateDecision, RateLimiter } from './rateLimiter.ts';

export interface AdmissionOptions {
  limiter: RateLimiter;
  /** Partition and policy of a request (API key and plan, else client address). */
  identify: IdentifyCaller;
  metrics?: RateLimitMetrics;
  logger?: Logger;
}

/** One request's decision, and the refusal to answer with when it is refused. */
export interface Admission {
  decision: RateDecision;
  refusal?: GraphQLError;
}

/**
 * Spends one request of the caller's allowance: the step HTTP requests (useRateLimit) and WebSocket
 * operations (graphqlWsServer) share. A check the shared store could not answer lets the request
 * through and is counted.
 */
export function createAdmission({ limiter, identify, metrics, logger }: AdmissionOptions) {
  return async function admit(request: Request, socketAddress: string | undefined): Promise<Admission> {
    const caller = await identify(request, socketAddress);
    const decision = await limiter.take(caller.partition, caller.policy);
    if (decision.failedOpen) metrics?.countStoreFailure();
    if (decision.allowed) return { decision };
    metrics?.countRefused(caller.policy.name);
    logger?.debug({ partition: caller.partition, policy: caller.policy.name }, 'rate limited');
    return { decision, refusal: rateLimited(retryAfterSeconds(decision), rateLimitHeaders(decision)) };
  };
}

export type Admit = ReturnType<typeof createAdmission>;
