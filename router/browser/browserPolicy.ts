import type { GraphQLError, ValidationRule } from 'graphql';
import type { OutgoingHttpHeaders } from 'node:http';
import type { BrowserConfig } from '../../lib/config/browserConfig.ts';
import type { ServerExchange } from '../../lib/server/serverExchange.ts';
import type { ServerRoute } from '../../lib/server/serverRoute.ts';
import { createCorsPolicy } from './corsPolicy.ts';
import { csrfPrevention } from './csrfPrevention.ts';
import { NoIntrospectionRule } from './noIntrospectionRule.ts';
import { addSecurityHeaders } from './securityHeaders.ts';

/** The router's browser policy, as the parts of the server it goes into. */
export interface BrowserPolicy {
  /** Adds the security headers and, for an allowed origin, the CORS headers to every answer. */
  decorate(exchange: ServerExchange): (headers: OutgoingHttpHeaders) => void;
  /** Answers CORS preflights. */
  preflight: ServerRoute;
  /** CSRF prevention, before any body is read (ahead of the content-type check). @default none when turned off */
  screen: ((exchange: ServerExchange) => GraphQLError | undefined) | undefined;
  /** Validation rules: introspection refused when config (or NODE_ENV=production) turns it off. */
  rules: ValidationRule[];
}

/** Security headers on every answer, CORS as configured, CSRF prevention and introspection as config says. */
export function createBrowserPolicy(browser: BrowserConfig): BrowserPolicy {
  const cors = createCorsPolicy(browser);
  return {
    decorate(exchange) {
      const corsHeaders = cors.headersFor(exchange);
      return (headers) => {
        addSecurityHeaders(headers);
        if (!corsHeaders) return;
        for (const [name, value] of Object.entries(corsHeaders)) {
          // Vary is merged: an answer that varies by Accept varies by Origin too.
          headers[name] = name === 'vary' && headers.vary ? `${headers.vary}, ${value}` : value;
        }
      };
    },
    preflight: cors.preflight,
    screen: browser.csrfPrevention ? csrfPrevention({ requestHeaders: browser.csrfRequestHeaders }) : undefined,
    rules: browser.introspection ? [] : [NoIntrospectionRule],
  };
}
