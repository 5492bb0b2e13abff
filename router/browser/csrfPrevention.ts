import type { GraphQLError } from 'graphql';
import { csrfBlocked } from '../../lib/errors.ts';
import type { ServerExchange } from '../../lib/server/serverExchange.ts';

export interface CsrfPreventionOptions {
  /** Headers any one of which (non-empty) proves the request was preflighted. @default ["x-apollo-operation-name","apollo-require-preflight"] */
  requestHeaders?: readonly string[];
}

/** Content types a browser sends cross-origin without a preflight (the "simple" ones). */
const SIMPLE_CONTENT_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];

/**
 * Credentials a browser never attaches by itself (unlike cookies or a cached Basic login): a request
 * that carries an `x-api-key` or a Bearer token got it from a script, and a script's cross-origin
 * request with such a header is preflighted. So clients that send their key this way pass without
 * Apollo's extra header: urql, for one, sends queries as plain GETs.
 */
function carriesScriptCredential(exchange: ServerExchange): boolean {
  return (exchange.header('x-api-key') ?? '') !== '' || /^bearer\s+\S/i.test(exchange.header('authorization') ?? '');
}

/**
 * CSRF prevention as @apollo/server does it: a browser sends a "simple" request (a GET, or a POST
 * with one of the simple content types) cross-origin without asking first, so such a request must
 * carry a header only a preflighted request can have, or a content type that is not simple, such
 * as application/json. Everything else is refused with 400 BAD_REQUEST before the body is read.
 * @graphql-yoga/plugin-csrf-prevention does nearly this, but accepts an empty header, matches
 * content types by prefix and answers 403 without a code; Apollo clients expect Apollo's rule.
 */
export function csrfPrevention({ requestHeaders = ['x-apollo-operation-name', 'apollo-require-preflight'] }: CsrfPreventionOptions = {}): (exchange: ServerExchange) => GraphQLError | undefined {
  return (exchange) => {
    const contentType = exchange.header('content-type');
    if (contentType !== undefined) {
      const essence = contentType.split(';')[0].trim().toLowerCase();
      // A type browsers cannot parse is no simple request either (Apollo's rule too).
      if (!essence.includes('/') || !SIMPLE_CONTENT_TYPES.includes(essence)) return undefined;
    }
    if (requestHeaders.some((name) => (exchange.header(name) ?? '') !== '')) return undefined;
    if (carriesScriptCredential(exchange)) return undefined;
    return csrfBlocked(requestHeaders, SIMPLE_CONTENT_TYPES);
  };
}
