import type { OutgoingHttpHeaders } from 'node:http';

/**
 * Generic security headers on every router answer, GraphiQL's page included: no MIME sniffing, no
 * referrer leaking the endpoint's URL, and no framing (clickjacking of GraphiQL). A page that sets
 * its own Content-Security-Policy keeps it, with `frame-ancestors 'none'` added when it has none.
 */
export function addSecurityHeaders(headers: OutgoingHttpHeaders): void {
  headers['x-content-type-options'] = 'nosniff';
  headers['referrer-policy'] = 'no-referrer';
  headers['x-frame-options'] = 'DENY';
  const policy = headers['content-security-policy'];
  if (policy === undefined) headers['content-security-policy'] = "frame-ancestors 'none'";
  else if (!/(^|;)\s*frame-ancestors\b/i.test(String(policy))) headers['content-security-policy'] = `${policy}; frame-ancestors 'none'`;
}
