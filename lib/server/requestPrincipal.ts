import { PRINCIPAL_HEADER, verifyPrincipal, type Principal } from '../principal.ts';
import type { ServerExchange } from './serverExchange.ts';

const verified = new WeakMap<ServerExchange, Principal | null>();

/**
 * The router-signed principal of a request, verified once however many parts of the server ask (the
 * signature check and the context both do): an HMAC and a JSON parse per request, not per ask.
 */
export function requestPrincipal(exchange: ServerExchange, secrets: string | readonly string[], now = Date.now()): Principal | undefined {
  const known = verified.get(exchange);
  if (known !== undefined) return known ?? undefined;
  const principal = verifyPrincipal(exchange.header(PRINCIPAL_HEADER), secrets, now);
  verified.set(exchange, principal ?? null);
  return principal;
}
