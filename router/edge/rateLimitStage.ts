import type { Logger } from 'pino';
import { rateLimited } from '../../lib/errors.ts';
import { refusedWith } from '../../lib/server/graphqlEndpoint.ts';
import { rateLimitHeaders, retryAfterSeconds } from '../rateLimit/rateLimitHeaders.ts';
import type { RateLimitMetrics } from '../rateLimit/rateLimitMetrics.ts';
import type { RateLimiter } from '../rateLimit/rateLimiter.ts';
import type { EdgeStage } from './edgeRequest.ts';

export interface RateLimitStageOptions {
  limiter: RateLimiter;
  metrics?: RateLimitMetrics;
  logger?: Logger;
}

/**
 * Spends one request of the caller's allowance (the caller stage said whose, under which policy) as
 * soon as the parameters are read, before parsing, validation or any gateway call, so a refused flood
 * costs next to nothing, and refuses with 429 RATE_LIMITED and Retry-After once it is spent. Every
 * answer carries the IETF RateLimit-Policy / RateLimit fields. A subscription counts once, at its
 * start; a WebSocket operation like an HTTP request. A check the shared store could not answer lets
 * the request through and is counted.
 */
export function createRateLimitStage({ limiter, metrics, logger }: RateLimitStageOptions): EdgeStage {
  return async (request) => {
    const { partition, policy } = request.caller;
    const decision = await limiter.take(partition, policy);
    if (decision.failedOpen) metrics?.countStoreFailure();
    const headers = rateLimitHeaders(decision);
    request.answerHeaders = { ...request.answerHeaders, ...headers };
    if (decision.allowed) return undefined;
    metrics?.countRefused(policy.name);
    logger?.debug({ partition, policy: policy.name }, 'rate limited');
    return refusedWith(rateLimited(retryAfterSeconds(decision), headers));
  };
}
