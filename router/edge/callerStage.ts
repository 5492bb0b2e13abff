import { createHash } from 'node:crypto';
import { identityUnavailable, invalidApiKey } from '../../lib/errors.ts';
import type { RatePolicyConfig } from '../../lib/config/edgeConfig.ts';
import type { ApiKeyResolver } from '../apiKeyResolver.ts';
import { clientAddress } from '../rateLimit/clientAddress.ts';
import type { RatePolicy } from '../rateLimit/rateLimiter.ts';
import { ANONYMOUS, type Caller, type EdgeSource, type EdgeStage } from './edgeRequest.ts';

export interface CallerStageOptions {
  /** Turns an API key into a principal (cached); none for a topology without auth. */
  resolver: ApiKeyResolver | undefined;
  anonymous: RatePolicyConfig;
  plans: Readonly<Record<string, RatePolicyConfig>>;
  /** Plan of a valid key whose plan is unknown. */
  defaultPlan: string;
  /** Proxies in front of the router that append to X-Forwarded-For. @default 0 */
  trustedProxyHops?: number;
  /** Longer keys are refused without a lookup. @default 512 */
  maxKeyLength?: number;
}

/** Who a request comes from, for transports that identify callers outside the stages (graphql-ws at connection time). */
export type IdentifyCaller = (source: Pick<EdgeSource, 'header' | 'remoteAddress'>) => Promise<Caller>;

/**
 * The first stage: the request's API key (`Authorization: Bearer <key>`, else `x-api-key`) is
 * resolved once, and what it says serves both auth and the rate limits. A valid key acts for its
 * user and spends its own allowance under the user's plan; no key, a refused key or one that cannot
 * be checked right now acts anonymously (one shared ANONYMOUS principal) and spends its address's
 * allowance, so guessing keys is rate limited too. A refused key is answered 401 by the auth stage,
 * once the operation is known to be valid; an unchecked one runs with a SUPERGRAPH_UNAVAILABLE error.
 */
export function createCallerStage(options: CallerStageOptions): { stage: EdgeStage; identify: IdentifyCaller } {
  const { resolver, defaultPlan, trustedProxyHops = 0, maxKeyLength = 512 } = options;
  const anonymous: RatePolicy = { name: 'anonymous', ...options.anonymous };
  const plans = new Map(Object.entries(options.plans).map(([plan, policy]) => [plan, { name: plan.toLowerCase(), ...policy }]));
  const fallbackPlan = plans.get(defaultPlan) ?? anonymous;

  const identify: IdentifyCaller = async (source) => {
    const byAddress = () => `addr:${clientAddress(source.remoteAddress, source.header('x-forwarded-for') ?? null, trustedProxyHops) ?? 'unknown'}`;
    const apiKey = apiKeyOf(source.header('authorization'), source.header('x-api-key'));
    if (apiKey === undefined || !resolver) return { principal: ANONYMOUS, partition: byAddress(), policy: anonymous };
    if (apiKey.length > maxKeyLength) return { principal: ANONYMOUS, partition: byAddress(), policy: anonymous, refusal: invalidApiKey() };
    const resolution = await resolver.resolve(apiKey);
    if (resolution.status === 'valid') {
      const plan = resolution.principal.plan;
      return {
        principal: resolution.principal,
        partition: `key:${createHash('sha256').update(apiKey).digest('base64url').slice(0, 24)}`,
        policy: (plan !== undefined ? plans.get(plan) : undefined) ?? fallbackPlan,
      };
    }
    if (resolution.status === 'invalid') return { principal: ANONYMOUS, partition: byAddress(), policy: anonymous, refusal: invalidApiKey() };
    return { principal: ANONYMOUS, partition: byAddress(), policy: anonymous, warning: identityUnavailable('identity', resolution.failure) };
  };

  return {
    identify,
    async stage(request) {
      request.caller = await identify(request.source);
      return undefined;
    },
  };
}

/** The API key a request carries, if any: a Bearer token wins over `x-api-key`. */
export function apiKeyOf(authorization: string | undefined, xApiKey: string | undefined): string | undefined {
  const bearer = authorization?.trim().match(/^Bearer\s+(.+)$/i)?.[1]?.trim();
  if (bearer) return bearer;
  const header = xApiKey?.trim();
  return header || undefined;
}
