import type { Plugin } from 'graphql-yoga';

/**
 * Generic security headers on every router answer, GraphiQL's page included: no MIME sniffing, no
 * referrer leaking the endpoint's URL, and no framing (clickjacking of GraphiQL). A page that sets
 * its own Content-Security-Policy keeps it, with `frame-ancestors 'none'` added when it has none.
 */
export function useSecurityHeaders(): Plugin {
  return {
    onResponse({ response }) {
      const headers = response.headers;
      headers.set('X-Content-Type-Options', 'nosniff');
      headers.set('Referrer-Policy', 'no-referrer');
      headers.set('X-Frame-Options', 'DENY');
      const policy = headers.get('Content-Security-Policy');
      if (!policy) headers.set('Content-Security-Policy', "frame-ancestors 'none'");
      else if (!/(^|;)\s*frame-ancestors\b/i.test(policy)) headers.set('Content-Security-Policy', `${policy}; frame-ancestors 'none'`);
    },
  };
}
