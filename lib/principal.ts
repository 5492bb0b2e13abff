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
  /** Expiry, epoch ms: a leaked header is useless after this. */
  exp: number;
}

const TOKEN_TTL_MS = 60_000;

function mac(secret: string, body: string): Buffer {
  return createHmac('sha256', secret).update(body).digest();
}

/** Signs a principal for internal hops (router → gateway → subgraph). */
export function signPrincipal(principal: Principal, secret: string, now = Date.now()): string {
  const payload: TokenPayload = { ...principal, iss: 'router', exp: now + TOKEN_TTL_MS };
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `v1.${body}.${mac(secret, body).toString('base64url')}`;
}

/**
 * Verifies a signed principal. Returns undefined for a missing, forged, malformed or expired token,
 * so callers treat the request as anonymous and unsigned.
 */
export function verifyPrincipal(token: string | null | undefined, secret: string, now = Date.now()): Principal | undefined {
  if (!token) return undefined;
  const [version, body, signature] = token.split('.');
  if (version !== 'v1' || !body || !signature) return undefined;
  const expected = mac(secret, body);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenPayload;
    if (payload.iss !== 'router' || typeof payload.exp !== 'number' || payload.exp < now) return undefined;
    return {
      userId: typeof payload.userId === 'string' ? payload.userId : undefined,
      scopes: Array.isArray(payload.scopes) ? payload.scopes.filter((s) => typeof s === 'string') : [],
    };
  } catch {
    return undefined;
  }
}
