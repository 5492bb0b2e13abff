import { createHash } from 'node:crypto';
import type { RatePolicyConfig } from '../../lib/config/edgeConfig.ts';
import type { ApiKeyResolver } from '../apiKeyResolver.ts';
import { apiKeyOf } from '../plugins/useAuth.ts';
import { clientAddress } from './clientAddress.ts';
import type { RatePolicy } from './rateLimiter.ts';

/** Whose allowance a request spends, and under which policy. */
export interface Caller {
  /** `key:<digest of the API key>` or `addr:<client address>`. */
  partition: string;
  policy: RatePolicy;
}

export interface CallerIdentifierOptions {
  /** The router's key resolver (shared with useAuth, so a key is looked up once). */
  resolver: ApiKeyResolver;
  anonymous: RatePolicyConfig;
  plans: Readonly<Record<string, RatePolicyConfig>>;
  /** Plan of a valid key whose plan is unknown. */
  defaultPlan: string;
  /** @default 0 */
  trustedProxyHops?: number;
  /** Longer keys are not looked up (useAuth refuses them). @default 512 */
  maxKeyLength?: number;
}

export type IdentifyCaller = (request: Request, socketAddress?: string) => Promise<Caller>;

/**
 * A valid key spends its own allowance under its user's plan. Everyone else — no key, a refused
 * key, a key that cannot be checked right now — spends their address's allowance under the
 * anonymous policy, the same way useAuth treats them, so guessing keys is rate limited too.
 */
export function createCallerIdentifier(options: CallerIdentifierOptions): IdentifyCaller {
  const { resolver, defaultPlan, trustedProxyHops = 0, maxKeyLength = 512 } = options;
  const anonymous: RatePolicy = { name: 'anonymous', ...options.anonymous };
  const plans = new Map(Object.entries(options.plans).map(([plan, policy]) => [plan, { name: plan.toLowerCase(), ...policy }]));
  const fallbackPlan = plans.get(defaultPlan) ?? anonymous;

  return async (request, socketAddress) => {
    const { headers } = request;
    const apiKey = apiKeyOf(headers);
    if (apiKey !== undefined && apiKey.length <= maxKeyLength) {
      const resolution = await resolver.resolve(apiKey, request);
      if (resolution.status === 'valid') {
        const plan = resolution.principal.plan;
        return {
          partition: `key:${createHash('sha256').update(apiKey).digest('base64url').slice(0, 24)}`,
          policy: (plan !== undefined ? plans.get(plan) : undefined) ?? fallbackPlan,
        };
      }
    }
    const address = clientAddress(socketAddress, headers.get('x-forwarded-for'), trustedProxyHops) ?? 'unknown';
    return { partition: `addr:${address}`, policy: anonymous };
  };
}
