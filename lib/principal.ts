import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header that carries the signed principal from the router to gateways and subgraphs. */
export const PRINCIPAL_HEADER = 'x-internal-principal';

/** Who a request acts for. `userId` is absent for anonymous callers. */
export interface Principal {
  userId?: string;
  scopes: string[];
  /** The user's plan (FREE, PRO, ...), known at the router for rate limits; not verified downstream. */
  plan?: string;
}

interface TokenPayload extends Principal {
  /** Issuer: only the router signs tokens. */
  iss: 'router';
  /** Issued at, epoch ms. */
  iat: number;
  /** Expiry, epoch ms: a leaked or replayed header is useless after this. */
  exp: number;
}

/**
 * Lifetime of a signed principal. The router reuses a principal's token for at most
 * PRINCIPAL_TOKEN_REUSE_MS (10 s) and a gateway call, its retry included, ends within the router's
 * 10 s gateway deadline; the gateway forwards a token to its subgraph calls, re-signing it after 10 s
 * for a long subscription. So 30 s outlasts every use with room for clock skew. A replay is possible
 * only within this window, and only for a caller inside the internal network that captured a header.
 */
export const PRINCIPAL_TOKEN_TTL_MS = 30_000;

/** A token issued further in the future than this is refused: clocks that far apart would make `exp` meaningless. */
const MAX_CLOCK_SKEW_MS = 5_000;

function mac(secret: string, body: string): Buffer {
  return createHmac('sha256', secret).update(body).digest();
}

/** Signs a principal for internal hops (router → gateway → subgraph). */
export function signPrincipal(principal: Principal, secret: string, now = Date.now(), ttlMs = PRINCIPAL_TOKEN_TTL_MS): string {
  const payload: TokenPayload = { ...principal, iss: 'router', iat: now, exp: now + ttlMs };
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `v1.${body}.${mac(secret, body).toString('base64url')}`;
}

/** How long the router reuses one principal's token: its gateway deadline on top still leaves the token alive. */
export const PRINCIPAL_TOKEN_REUSE_MS = 10_000;

/**
 * `signPrincipal` with a token reused for up to `reuseMs` per principal object: the router's API key
 * cache hands out the same principal object for every request of a key, so a busy key costs one HMAC
 * every `reuseMs` instead of one per gateway call. A principal not seen before is simply signed.
 */
export function principalSigner(secret: string, reuseMs = PRINCIPAL_TOKEN_REUSE_MS): (principal: Principal) => string {
  const tokens = new WeakMap<Principal, { token: string; at: number }>();
  return (principal) => {
    const now = Date.now();
    const known = tokens.get(principal);
    if (known && now - known.at < reuseMs && now >= known.at) return known.token;
    const token = signPrincipal(principal, secret, now);
    tokens.set(principal, { token, at: now });
    return token;
  };
}

/**
 * Verifies a signed principal against one secret or several (the current one and, during a
 * rotation, the previous one). Returns undefined for a missing, forged, malformed, expired or
 * future-dated token.
 */
export function verifyPrincipal(token: string | null | undefined, secrets: string | readonly string[], now = Date.now()): Principal | undefined {
  if (!token) return undefined;
  const [version, body, signature, extra] = token.split('.');
  if (version !== 'v1' || !body || !signature || extra !== undefined) return undefined;
  const given = Buffer.from(signature, 'base64url');
  const candidates = typeof secrets === 'string' ? [secrets] : secrets;
  const signed = candidates.some((secret) => {
    const expected = mac(secret, body);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!signed) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenPayload;
    if (payload.iss !== 'router' || typeof payload.exp !== 'number' || payload.exp < now) return undefined;
    if (typeof payload.iat !== 'number' || payload.iat > now + MAX_CLOCK_SKEW_MS) return undefined;
    return {
      userId: typeof payload.userId === 'string' ? payload.userId : undefined,
      scopes: Array.isArray(payload.scopes) ? payload.scopes.filter((s) => typeof s === 'string') : [],
    };
  } catch {
    return undefined;
  }
}
