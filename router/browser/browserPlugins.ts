import type { Plugin } from 'graphql-yoga';
import type { BrowserConfig } from '../../lib/config/browserConfig.ts';
import { useCsrfPrevention } from '../plugins/useCsrfPrevention.ts';
import { useDisableIntrospection } from '../plugins/useDisableIntrospection.ts';
import { useSecurityHeaders } from '../plugins/useSecurityHeaders.ts';

/**
 * The router's browser policy as plugins, in the order they must run: security headers on every
 * answer, CSRF prevention before any body is parsed (ahead of the content-type check), and
 * introspection refused when config (or NODE_ENV=production) turns it off. CORS and GraphiQL are
 * yoga options (corsPolicy; GraphiQL is useOfflineGraphiQL, by `router.graphiql`).
 */
export function browserPlugins(browser: Pick<BrowserConfig, 'csrfPrevention' | 'csrfRequestHeaders' | 'introspection'>): Plugin[] {
  return [
    useSecurityHeaders(),
    ...(browser.csrfPrevention ? [useCsrfPrevention({ requestHeaders: browser.csrfRequestHeaders })] : []),
    ...(browser.introspection ? [] : [useDisableIntrospection()]),
  ];
}
