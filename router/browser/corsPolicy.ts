import type { OutgoingHttpHeaders } from 'node:http';
import type { BrowserConfig } from '../../lib/config/browserConfig.ts';
import type { ServerExchange } from '../../lib/server/serverExchange.ts';
import type { ServerRoute } from '../../lib/server/serverRoute.ts';

/** Answer headers a browser app may read: the rate limit fields, so it can back off on its own. */
const EXPOSED_HEADERS = 'RateLimit, RateLimit-Policy, Retry-After';

export interface CorsPolicy {
  /** The CORS headers of an answer to this request (none for an origin not allowed). */
  headersFor(exchange: ServerExchange): OutgoingHttpHeaders | undefined;
  /** Answers every `OPTIONS` request (a preflight) with 204, its CORS headers added like any answer's. */
  preflight: ServerRoute;
}

/**
 * The router's CORS. None configured: no CORS headers at all. Otherwise an allowed origin is echoed
 * back with `Vary: Origin` on every answer (methods GET and POST, the requested headers echoed, the
 * rate-limit fields exposed, credentials only when allowed and never with `*`), and any other origin
 * gets no CORS headers, so its browser refuses the answer. An unlisted origin is never answered with
 * `Access-Control-Allow-Origin: null`, which a sandboxed iframe (whose origin is "null") would pass.
 */
export function createCorsPolicy(browser: Pick<BrowserConfig, 'corsOrigins' | 'corsAllowCredentials' | 'corsMaxAgeSeconds'>): CorsPolicy {
  const { corsOrigins, corsAllowCredentials, corsMaxAgeSeconds } = browser;
  const anyOrigin = corsOrigins.includes('*');
  const allowed = new Set(corsOrigins);
  const credentials = !anyOrigin && corsAllowCredentials;
  return {
    headersFor(exchange) {
      const origin = exchange.header('origin');
      if (origin === undefined || corsOrigins.length === 0 || !(anyOrigin || allowed.has(origin))) return undefined;
      const headers: OutgoingHttpHeaders = { 'access-control-allow-origin': origin, vary: 'Origin', 'access-control-allow-methods': 'GET, POST' };
      const requested = exchange.header('access-control-request-headers');
      if (requested) {
        headers['access-control-allow-headers'] = requested;
        headers.vary = 'Origin, Access-Control-Request-Headers';
      }
      if (credentials) headers['access-control-allow-credentials'] = 'true';
      headers['access-control-expose-headers'] = EXPOSED_HEADERS;
      if (corsMaxAgeSeconds) headers['access-control-max-age'] = String(corsMaxAgeSeconds);
      return headers;
    },
    preflight(exchange) {
      if (exchange.method !== 'OPTIONS') return false;
      // Safari waits for a body on a 204 without Content-Length: 0.
      exchange.send(204, { 'content-length': 0 });
      return true;
    },
  };
}
