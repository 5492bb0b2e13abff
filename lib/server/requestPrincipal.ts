import { PRINCIPAL_HEADER, verifyPrincipal, type Principal } from '../principal.ts';

const verified = new WeakMap<Request, Principal | null>();

/**
 * The router-signed principal of a request, verified once however many parts of the server ask (the
 * signature check and the context factory both do): an HMAC and a JSON parse per request, not per ask.
 */
export function requestPrincipal(request: Request, secrets: string | readonly string[], now = Date.now()): Principal | undefined {
  const known = verified.get(request);
  if (known !== undefined) return known ?? undefined;
  const principal = verifyPrincipal(request.headers.get(PRINCIPAL_HEADER), secrets, now);
  verified.set(request, principal ?? null);
  return principal;
}
