import { PRINCIPAL_HEADER, signPrincipal, type Principal } from '../lib/principal.ts';
import { requestPrincipal } from '../lib/server/requestPrincipal.ts';
import type { RequestRecord } from '../lib/observability/requestTelemetry.ts';
import type { ServerExchange } from '../lib/server/serverExchange.ts';
import { DEADLINE_HEADER, withPropagatedDeadline } from '../lib/upstream/propagatedDeadline.ts';

/** What every gateway request carries down to its subgraph calls. */
export interface GatewayContext {
  /** The router-signed principal, verified here; it scopes the fallback cache. */
  principal?: Principal;
  /**
   * The principal header for one subgraph call, signed afresh: a token lives seconds, and a
   * subscription's calls (its rest plan per event, a stream re-opened on another replica) can come
   * long after the router signed. Empty for the few unsigned requests the gateway lets through.
   */
  principalHeaders(): Record<string, string>;
  /**
   * Aborts when the router goes away or its propagated deadline (less a margin) runs out; every
   * subgraph call of the request combines it with its own deadline.
   */
  signal?: AbortSignal;
  /** A subscription resumes after this event (the `Last-Event-ID` the router passes on). */
  lastEventId?: string;
}

/** How long one signature is reused for a request's subgraph calls (well within its 30 s life). */
const RESIGN_AFTER_MS = 10_000;

/** Builds a request's context from its headers, its connection's signal and its trace (`telemetry`). */
export function gatewayContextFactory(internalSecrets: readonly string[]): (exchange: ServerExchange, telemetry?: Pick<RequestRecord, 'traceHeaders'>) => GatewayContext {
  // Signs with the current secret; the previous one, during a rotation, is only ever verified.
  const [signingSecret] = internalSecrets;
  return (exchange, telemetry) => {
    const principal = requestPrincipal(exchange, internalSecrets);
    const lastEventId = exchange.header('last-event-id');
    // Signed once and reused by every subgraph call of the request (a query plan makes many), signed
    // again only when a long subscription has held it for a while: a token lives 30 s.
    // The trace goes along with the principal: every subgraph call takes these headers (when traces
    // are exported, the active span's traceparent replaces this one).
    let signed: { headers: Record<string, string>; at: number } | undefined;
    const principalHeaders = (): Record<string, string> => {
      if (!principal) return {};
      const now = Date.now();
      if (!signed || now - signed.at > RESIGN_AFTER_MS) signed = { headers: { ...telemetry?.traceHeaders(), [PRINCIPAL_HEADER]: signPrincipal(principal, signingSecret, now) }, at: now };
      return signed.headers;
    };
    const signal = withPropagatedDeadline(exchange.signal, exchange.header(DEADLINE_HEADER), (release) => exchange.onClose(release));
    return { principal, principalHeaders, signal, lastEventId };
  };
}
