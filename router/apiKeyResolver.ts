import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { createDeadline } from '../lib/upstream/deadline.ts';
import { isFailureReason, type UpstreamFailure } from '../lib/errors.ts';
import type { Principal } from '../lib/principal.ts';
import { ANONYMOUS } from './edge/edgeRequest.ts';
import type { GatewayClient } from './gatewayClient.ts';
import { LRUCache } from 'lru-cache';

/**
 * The operation the router sends to the identity supergraph to turn an API key into a principal.
 * The plan comes along (from the users subgraph, through the gateway) for the rate limits.
 */
export const AUTHENTICATE_QUERY =
  'query RouterAuthenticate($apiKey: String!) { _internalAuthenticate(apiKey: $apiKey) { userId scopes user { plan } } }';

export type ApiKeyResolution =
  /** `planUnknown`: the key is good but its plan could not be read (users subgraph down). */
  | { status: 'valid'; principal: Principal; planUnknown?: true }
  | { status: 'invalid' }
  | { status: 'unavailable'; failure: UpstreamFailure };

export interface ApiKeyResolver {
  /** Resolves a key through the identity supergraph, from the cache when possible. Never rejects. */
  resolve(apiKey: string): Promise<ApiKeyResolution>;
  /**
   * Drops every cached answer for a user's keys, stale-if-error copies included, so the next
   * request with any of them asks the identity supergraph again: called when one was revoked.
   */
  forgetUser(userId: string): void;
}

/** The resolver of a topology without auth: no key names anyone, so every caller is anonymous (and rate-limited by address). */
export const NO_API_KEYS: ApiKeyResolver = {
  resolve: async () => ({ status: 'invalid' }),
  forgetUser: () => {},
};

export interface ApiKeyResolverOptions {
  /** Client of the identity supergraph's gateways. */
  identity: GatewayClient;
  /** How long a valid key stays cached. @default 30000 */
  ttlMs?: number;
  /** How long an unknown key stays cached, short so a new key works soon. @default min(5000, ttlMs) */
  negativeTtlMs?: number;
  /**
   * How long the last valid answer for a key is kept for when the identity supergraph cannot be
   * asked: signed-in users keep working through an identity outage (a key revoked during the outage
   * stays usable until it ends or this passes). @default 3600000
   */
  staleIfErrorMs?: number;
  /** Cached keys at most. @default 10000 */
  maxEntries?: number;
  /** Deadline of one lookup. @default 5000 */
  timeoutMs?: number;
  /** @default Date.now */
  now?: () => number;
  logger?: Logger;
}

/**
 * Share of a valid answer's life after which reading it also refreshes it in the background: a key in
 * steady use never waits for a lookup, and a revoked one is still refused within the TTL.
 */
const REFRESH_AHEAD_AFTER = 0.8;

/** Caches API key lookups by the key's SHA-256 (never the key itself), answers included. */
export function createApiKeyResolver(options: ApiKeyResolverOptions): ApiKeyResolver {
  const { identity, ttlMs = 30_000, maxEntries = 10_000, timeoutMs = 5_000, now = Date.now, logger } = options;
  const negativeTtlMs = options.negativeTtlMs ?? Math.min(5_000, ttlMs);
  const staleIfErrorMs = options.staleIfErrorMs ?? 3_600_000;
  const clock = { now };
  // Each answer with the time from which a request that reads it also refreshes it, in the background.
  const cache = new LRUCache<string, { resolution: ApiKeyResolution; refreshAt: number }>({ max: maxEntries, perf: clock, ttlResolution: 0 });
  const remember = (hash: string, resolution: ApiKeyResolution, ttl: number) =>
    cache.set(hash, { resolution, refreshAt: now() + ttl * REFRESH_AHEAD_AFTER }, { ttl });
  const lastValid = new LRUCache<string, Principal>({ max: maxEntries, ttl: staleIfErrorMs, perf: clock, ttlResolution: 0 });
  // Concurrent requests with the same key share one lookup.
  const inFlight = new Map<string, Promise<ApiKeyResolution>>();
  // Bumped by forgetUser: a lookup that started before a revocation may have read the key before
  // it was deleted, so its answer is used once but not cached.
  let generation = 0;

  async function lookup(apiKey: string): Promise<ApiKeyResolution> {
    // Not tied to any one client's signal: the lookup is shared, one client leaving must not fail the others.
    const deadline = createDeadline(timeoutMs);
    try {
      const outcome = await identity.execute(
        {
          query: AUTHENTICATE_QUERY,
          variables: { apiKey },
          operationName: 'RouterAuthenticate',
          principal: ANONYMOUS,
        },
        deadline.signal,
      );
      if (!outcome.ok) {
        logger?.warn({ reason: outcome.failure.reason, detail: outcome.detail }, 'API key lookup failed: identity supergraph unavailable');
        return { status: 'unavailable', failure: outcome.failure };
      }
      const { data } = outcome.result;
      const answer = data?._internalAuthenticate as { userId?: unknown; scopes?: unknown; user?: { plan?: unknown } | null } | null | undefined;
      // The plan is a detail: users being down must not make a good key unusable, only plan-less.
      const isPlanError = (e: unknown) => {
        const path = (e as { path?: unknown }).path;
        return Array.isArray(path) && path[0] === '_internalAuthenticate' && path[1] === 'user';
      };
      const errors = outcome.result.errors?.filter((e) => !isPlanError(e));
      const planUnknown = outcome.result.errors?.some(isPlanError) ?? false;
      if (errors?.length || answer === undefined) {
        // An error (auth subgraph down, or FORBIDDEN because the secrets differ) says nothing about the key.
        const first = errors?.[0]?.extensions as { code?: unknown; reason?: unknown } | undefined;
        logger?.warn({ code: first?.code, reason: first?.reason }, 'API key lookup answered with errors');
        const reason = isFailureReason(first?.reason) ? first.reason : 'bad_response';
        return { status: 'unavailable', failure: { reason, attempts: outcome.attempts } };
      }
      if (answer === null) return { status: 'invalid' };
      if (typeof answer.userId !== 'string' || !Array.isArray(answer.scopes)) {
        return { status: 'unavailable', failure: { reason: 'bad_response', attempts: outcome.attempts } };
      }
      const plan = typeof answer.user?.plan === 'string' ? answer.user.plan : undefined;
      return {
        status: 'valid',
        principal: { userId: answer.userId, scopes: answer.scopes.filter((s): s is string => typeof s === 'string'), ...(plan ? { plan } : {}) },
        ...(planUnknown ? { planUnknown: true as const } : {}),
      };
    } finally {
      deadline.dispose();
    }
  }

  return {
    forgetUser(userId) {
      generation++;
      // A scan, not an index: revocations are rare, and the caches are bounded by maxEntries.
      const cached = [...cache.entries()].filter(([, { resolution: r }]) => r.status === 'valid' && r.principal.userId === userId);
      for (const [hash] of cached) cache.delete(hash);
      const kept = [...lastValid.entries()].filter(([, principal]) => principal.userId === userId);
      for (const [hash] of kept) lastValid.delete(hash);
    },
    resolve: (apiKey) => resolveShared(apiKey),
  };

  async function resolveShared(apiKey: string): Promise<ApiKeyResolution> {
    const hash = createHash('sha256').update(apiKey).digest('hex');
    const cached = cache.get(hash);
    if (cached) {
      // A busy key is looked up again before its answer expires, so none of its requests waits for it.
      if (cached.resolution.status === 'valid' && now() >= cached.refreshAt && !inFlight.has(hash)) void lookupShared(apiKey, hash);
      return cached.resolution;
    }
    return inFlight.get(hash) ?? lookupShared(apiKey, hash);
  }

  /** Asks the identity supergraph, once however many requests wait for the answer, and caches what it says. */
  function lookupShared(apiKey: string, hash: string): Promise<ApiKeyResolution> {
    const startedIn = generation;
    const pending = lookup(apiKey)
      .catch((error): ApiKeyResolution => {
        logger?.error({ err: error }, 'API key lookup threw');
        return { status: 'unavailable', failure: { reason: 'network', attempts: 1 } };
      })
      .then((resolution): ApiKeyResolution => {
        if (startedIn !== generation && resolution.status !== 'unavailable') return resolution;
        // Outages are not cached: the next request should try again.
        if (resolution.status === 'valid') {
          if (resolution.planUnknown) {
            // Plan unreadable: keep the last known one, and ask again soon rather than for a whole TTL.
            const plan = lastValid.get(hash)?.plan;
            const principal = plan ? { ...resolution.principal, plan } : resolution.principal;
            remember(hash, { status: 'valid', principal }, negativeTtlMs);
            lastValid.set(hash, principal);
            return { status: 'valid', principal };
          }
          remember(hash, resolution, ttlMs);
          lastValid.set(hash, resolution.principal);
        } else if (resolution.status === 'invalid') {
          remember(hash, resolution, negativeTtlMs);
          lastValid.delete(hash);
        } else {
          const known = lastValid.get(hash);
          if (known) {
            logger?.warn({ reason: resolution.failure.reason }, 'identity supergraph unavailable: using the last valid answer for this key');
            return { status: 'valid', principal: known };
          }
        }
        return resolution;
      })
      .finally(() => inFlight.delete(hash));
    inFlight.set(hash, pending);
    return pending;
  }
}
