import type { YogaServerOptions } from 'graphql-yoga';
import type { BrowserConfig } from '../../lib/config/browserConfig.ts';

/** Answer headers a browser app may read: the rate limit fields, so it can back off on its own. */
const EXPOSED_HEADERS = ['RateLimit', 'RateLimit-Policy', 'Retry-After'];

/**
 * The router's `cors` option for yoga. None configured: no CORS headers at all (yoga's default
 * would reflect every origin, with credentials). Otherwise an allowed origin is echoed back with
 * `Vary: Origin`, and any other origin gets no CORS headers, so its browser refuses the answer.
 * Yoga's own list handling is not used because it answers an unlisted origin with
 * `Access-Control-Allow-Origin: null`, which a sandboxed iframe (whose origin is "null") would pass.
 */
export function corsPolicy(browser: Pick<BrowserConfig, 'corsOrigins' | 'corsAllowCredentials' | 'corsMaxAgeSeconds'>): YogaServerOptions<object, object>['cors'] {
  const { corsOrigins, corsAllowCredentials, corsMaxAgeSeconds } = browser;
  if (corsOrigins.length === 0) return false;
  const anyOrigin = corsOrigins.includes('*');
  const allowed = new Set(corsOrigins);
  const options = {
    // Yoga echoes the request's origin (with Vary: Origin) for "*"; it is only reached for allowed origins.
    origin: ['*'],
    methods: ['GET', 'POST'],
    exposedHeaders: EXPOSED_HEADERS,
    // Explicit false: yoga turns credentials on whenever it is left undefined.
    credentials: anyOrigin ? false : corsAllowCredentials,
    maxAge: corsMaxAgeSeconds,
  };
  return (request: Request) => {
    const origin = request.headers.get('origin');
    return origin !== null && (anyOrigin || allowed.has(origin)) ? options : false;
  };
}
