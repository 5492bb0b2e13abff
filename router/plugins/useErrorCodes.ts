import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { ErrorCode } from '../../lib/errors.ts';

type ResultLike = { errors?: readonly GraphQLError[] };

/**
 * Makes sure every error a client gets carries `extensions.code`, including the few yoga and
 * graphql-js leave without one, and answers a POST with an unsupported content type with a GraphQL
 * error (415) instead of an empty body.
 */
export function useErrorCodes(): Plugin {
  return {
    onRequestParse({ request, requestParser }) {
      // Built-in parsers register before user plugins, so no parser here means none will match.
      if (request.method === 'POST' && !requestParser) {
        throw new GraphQLError('Unsupported content type: send application/json.', {
          extensions: { code: ErrorCode.BAD_REQUEST, http: { status: 415 } },
        });
      }
    },
    onResultProcess({ result, setResult }) {
      if (!result || typeof result !== 'object' || Symbol.asyncIterator in result) return;
      const results = (Array.isArray(result) ? result : [result]) as ResultLike[];
      if (!results.some((r) => r.errors?.some((e) => !e.extensions?.code))) return;
      const fixed = results.map((r) => (r.errors ? { ...r, errors: r.errors.map(withCode) } : r));
      setResult((Array.isArray(result) ? fixed : fixed[0]) as typeof result);
    },
  };
}

function withCode(error: GraphQLError): GraphQLError {
  if (error.extensions?.code) return error;
  const code = error.message.startsWith('Syntax Error') ? ErrorCode.GRAPHQL_PARSE_FAILED : ErrorCode.INTERNAL_SERVER_ERROR;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code },
  });
}
