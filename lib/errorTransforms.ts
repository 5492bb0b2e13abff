import { GraphQLError, type GraphQLErrorOptions } from 'graphql';
import type { ErrorCode } from './errors.ts';

/*
 * Reshaping errors that already exist: a code added, internals removed, another tier's error passed
 * on. Every new error, and every code, still comes from errors.ts.
 */

/** The same error with a code it lacked (the few yoga and graphql-js leave without one). */
export function withErrorCode(original: GraphQLError, code: ErrorCode): GraphQLError {
  return withExtensions(original, { ...original.extensions, code });
}

/** The same error (message, locations, path, cause) with other extensions. */
function withExtensions(original: GraphQLError, extensions: Record<string, unknown>): GraphQLError {
  return new GraphQLError(original.message, {
    nodes: original.nodes,
    source: original.source,
    positions: original.positions,
    path: original.path,
    originalError: original.originalError,
    extensions,
  });
}

/** Another tier's error passed on to a client, once its extensions are known to be public and clean. */
export function relayedError(message: string, options: Pick<GraphQLErrorOptions, 'path' | 'extensions' | 'source' | 'positions'>): GraphQLError {
  return new GraphQLError(message, options);
}

/** The same as JSON, for HTTP answers built outside GraphQL execution. */
export function errorBody(...errors: GraphQLError[]): { errors: unknown[] } {
  return { errors: errors.map((e) => { const { http: _http, ...extensions } = e.extensions; return { ...e.toJSON(), extensions }; }) };
}

/** Extensions that carry a server's internals (yoga's echo of a parse failure, stack traces), never a client's business. */
const INTERNAL_EXTENSIONS = ['originalError', 'stacktrace', 'exception'];

/**
 * The same error without internal extensions: yoga puts `originalError` (the JSON parser's message,
 * quoting the raw body) on a body it cannot parse, whatever the masking says.
 */
export function withoutInternalExtensions<E extends GraphQLError>(original: E): E | GraphQLError {
  if (!INTERNAL_EXTENSIONS.some((key) => key in (original.extensions ?? {}))) return original;
  return withExtensions(original, Object.fromEntries(Object.entries(original.extensions).filter(([key]) => !INTERNAL_EXTENSIONS.includes(key))));
}
