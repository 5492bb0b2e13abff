import type { IncomingMessage } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { rateLimited } from '../../lib/errors.ts';
import type { IdentifyCaller } from '../rateLimit/identifyCaller.ts';
import { rateLimitHeaders, retryAfterSeconds } from '../rateLimit/rateLimitHeaders.ts';
import type { RateLimitMetrics } from '../rateLimit/rateLimitMetrics.ts';
import type { RateDecision, RateLimiter } from '../rateLimit/rateLimiter.ts';

export interface RateLimitOptions {
  limiter: RateLimiter;
  /** Partition and policy of a request (API key and plan, else client address). */
  identify: IdentifyCaller;
  metrics?: RateLimitMetrics;
  logger?: Logger;
}

/**
 * Spends one request of the caller's allowance as soon as the GraphQL parameters are read —
 * before parsing, validation or any gateway call, so a refused flood costs next to nothing — and
 * refuses with 429 RATE_LIMITED and Retry-After when it is spent. Every GraphQL answer carries the
 * IETF RateLimit-Policy / RateLimit fields. A subscription over SSE counts once, at its start.
 * A check the shared store could not answer lets the request through and is counted.
 */
export function useRateLimit({ limiter, identify, metrics, logger }: RateLimitOptions): Plugin {
  const decisions = new WeakMap<Request, RateDecision>();
  return {
    async onParams({ request, context }) {
      const socket = (context as { req?: IncomingMessage }).req?.socket;
      const caller = await identify(request, socket?.remoteAddress);
      const decision = await limiter.take(caller.partition, caller.policy);
      decisions.set(request, decision);
      if (decision.failedOpen) metrics?.countStoreFailure();
      if (decision.allowed) return;
      metrics?.countRefused(caller.policy.name);
      logger?.debug({ partition: caller.partition, policy: caller.policy.name }, 'rate limited');
      throw rateLimited(retryAfterSeconds(decision), rateLimitHeaders(decision));
    },
    onResponse({ request, response }) {
      const decision = decisions.get(request);
      if (!decision) return;
      for (const [name, value] of Object.entries(rateLimitHeaders(decision))) response.headers.set(name, value);
    },
  };
}
