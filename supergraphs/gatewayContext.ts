import type { YogaInitialContext } from 'graphql-yoga';
import { PRINCIPAL_HEADER, verifyPrincipal, type Principal } from '../lib/principal.ts';
import { DEADLINE_HEADER, withPropagatedDeadline } from '../lib/upstream/propagatedDeadline.ts';

/** What every gateway request carries down to its subgraph calls. */
export interface GatewayContext {
  /** The router-signed principal, forwarded untouched: subgraphs verify it themselves. */
  principalToken?: string;
  /** The same principal, verified here; it scopes the fallback cache. */
  principal?: Principal;
  /**
   * Aborts when the router goes away or its propagated deadline (less a margin) runs out; every
   * subgraph call of the request combines it with its own deadline.
   */
  signal?: AbortSignal;
}

/** Builds a request's context from its headers and its connection's signal. */
export function gatewayContextFactory(internalSecret: string): (initial: YogaInitialContext) => GatewayContext {
  return ({ request }) => {
    const principalToken = request.headers.get(PRINCIPAL_HEADER) ?? undefined;
    const signal = withPropagatedDeadline(request.signal, request.headers.get(DEADLINE_HEADER));
    return { principalToken, principal: verifyPrincipal(principalToken, internalSecret), signal };
  };
}
