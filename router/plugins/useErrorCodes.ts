import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { ErrorCode, badRequest, parseFailed, validationFailed } from '../../lib/errors.ts';
import { relayedError, withErrorCode } from '../../lib/errorTransforms.ts';

type ResultLike = { errors?: readonly GraphQLError[] };

/**
 * Makes sure every error a client gets carries `extensions.code`: parse failures become
 * GRAPHQL_PARSE_FAILED and graphql-js validation errors GRAPHQL_VALIDATION_FAILED where they arise
 * (by type, not by message), a POST with an unsupported content type gets a GraphQL error (415)
 * instead of an empty body, and anything yoga still leaves without a code gets one from its HTTP
 * status (and loses the parser error yoga attaches to a malformed body).
 */
export function useErrorCodes(): Plugin {
  return {
    onRequestParse({ request, requestParser }) {
      // Built-in parsers register before user plugins, so no parser here means none will match.
      if (request.method === 'POST' && !requestParser) throw badRequest('Unsupported content type: send application/json.', 415);
    },
    onParse() {
      return ({ result, replaceParseResult }) => {
        if (result instanceof GraphQLError && !result.extensions?.code) replaceParseResult(parseFailed(result));
      };
    },
    onValidate() {
      return ({ valid, result, setResult }) => {
        if (valid || result.every((e) => e.extensions?.code)) return;
        setResult(result.map((e) => (e.extensions?.code ? e : validationFailed(e.message, { nodes: e.nodes, source: e.source, positions: e.positions }, { ...e.extensions }))));
      };
    },
    onResultProcess({ result, setResult }) {
      if (!result || typeof result !== 'object' || Symbol.asyncIterator in result) return;
      const results = (Array.isArray(result) ? result : [result]) as ResultLike[];
      if (!results.some((r) => r.errors?.some((e) => !e.extensions?.code || e.extensions.originalError))) return;
      const fixed = results.map((r) => (r.errors ? { ...r, errors: r.errors.map(withCode) } : r));
      setResult((Array.isArray(result) ? fixed : fixed[0]) as typeof result);
    },
  };
}

/**
 * Yoga's own request errors say their HTTP status; a client error is BAD_REQUEST, anything else
 * internal. Yoga also attaches the JSON parser's own error (`originalError`) to a malformed body:
 * the server's internals, which the message already summarises.
 */
function withCode(error: GraphQLError): GraphQLError {
  if (error.extensions?.originalError) {
    const { originalError: _internal, ...extensions } = error.extensions;
    error = relayedError(error.message, { extensions, path: error.path, source: error.source, positions: error.positions });
  }
  if (error.extensions?.code) return error;
  const status = (error.extensions?.http as { status?: number } | undefined)?.status;
  return withErrorCode(error, status !== undefined && status >= 400 && status < 500 ? ErrorCode.BAD_REQUEST : ErrorCode.INTERNAL_SERVER_ERROR);
}
