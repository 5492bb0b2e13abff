import type { IncomingMessage } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import type { Admit } from '../rateLimit/admitRequest.ts';
import { rateLimitHeaders } from '../rateLimit/rateLimitHeaders.ts';
import type { RateDecision } from '../rateLimit/rateLimiter.ts';

export interface RateLimitOptions {
  /** Spends one request of its caller's allowance (rateLimit/admitRequest.ts). */
  admit: Admit;
}

/**
 * Spends one request of the caller's allowance as soon as the GraphQL parameters are read —
 * before parsing, validation or any gateway call, so a refused flood costs next to nothing — and
 * refuses with 429 RATE_LIMITED and Retry-After when it is spent. Every GraphQL answer carries the
 * IETF RateLimit-Policy / RateLimit fields. A subscription over SSE counts once, at its start.
 */
export function useRateLimit({ admit }: RateLimitOptions): Plugin {
  const decisions = new WeakMap<Request, RateDecision>();
  return {
    async onParams({ request, context }) {
      const socket = (context as { req?: IncomingMessage }).req?.socket;
      const { decision, refusal } = await admit(request, socket?.remoteAddress);
      decisions.set(request, decision);
      if (refusal) throw refusal;
    },
    onResponse({ request, response }) {
      const decision = decisions.get(request);
      if (!decision) return;
      for (const [name, value] of Object.entries(rateLimitHeaders(decision))) response.headers.set(name, value);
    },
  };
}
