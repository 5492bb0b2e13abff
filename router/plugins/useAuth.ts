import type { Plugin } from 'graphql-yoga';
import { identityUnavailable, invalidApiKey } from '../../lib/errors.ts';
import type { Principal } from '../../lib/principal.ts';
import type { ApiKeyResolution, ApiKeyResolver } from '../apiKeyResolver.ts';
import type { RouterContext } from '../routerContext.ts';

export interface AuthOptions {
  resolver: ApiKeyResolver;
  /** Longer keys are refused without a lookup. @default 512 */
  maxKeyLength?: number;
}

const ANONYMOUS: Principal = { scopes: [] };

/**
 * Turns the request's API key (`Authorization: Bearer <key>` or `x-api-key`) into the principal the
 * router signs for gateways. No key: anonymous, and subgraphs refuse private fields themselves.
 * Unknown key: 401 UNAUTHENTICATED. Identity supergraph down: the request runs anonymously (public
 * fields still answer, private ones fail UNAUTHENTICATED) with one SUPERGRAPH_UNAVAILABLE error that
 * says the key could not be checked, rather than failing every field of the other supergraph too.
 */
export function useAuth({ resolver, maxKeyLength = 512 }: AuthOptions): Plugin<RouterContext> {
  return {
    async onContextBuilding({ context, extendContext }) {
      const apiKey = apiKeyOf(context.request.headers);
      if (apiKey === undefined) {
        extendContext({ principal: ANONYMOUS });
        return;
      }
      const resolution: ApiKeyResolution = apiKey.length > maxKeyLength ? { status: 'invalid' } : await resolver.resolve(apiKey, context.request);
      if (resolution.status === 'valid') {
        extendContext({ principal: resolution.principal });
      } else if (resolution.status === 'invalid') {
        throw invalidApiKey();
      } else {
        const error = identityUnavailable('identity', resolution.failure);
        extendContext({ principal: ANONYMOUS, requestErrors: [...(context.requestErrors ?? []), error] });
      }
    },
  };
}

/** The API key a request carries, if any: a Bearer token wins over `x-api-key`. */
export function apiKeyOf(headers: Headers): string | undefined {
  const authorization = headers.get('authorization')?.trim();
  const bearer = authorization?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim();
  if (bearer) return bearer;
  const header = headers.get('x-api-key')?.trim();
  return header || undefined;
}
