import { GraphQLError } from 'graphql';

/** Every `extensions.code` this platform sets, in one place. */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  BAD_REQUEST: 'BAD_REQUEST',
  GRAPHQL_PARSE_FAILED: 'GRAPHQL_PARSE_FAILED',
  GRAPHQL_VALIDATION_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  OPERATION_RESOLUTION_FAILURE: 'OPERATION_RESOLUTION_FAILURE',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  RATE_LIMITED: 'RATE_LIMITED',
  DOWNSTREAM_SERVICE_ERROR: 'DOWNSTREAM_SERVICE_ERROR',
  SUPERGRAPH_UNAVAILABLE: 'SUPERGRAPH_UNAVAILABLE',
  GATEWAY_TIMEOUT: 'GATEWAY_TIMEOUT',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Why an upstream call failed, as reported in `extensions.reason`. */
export type FailureReason = 'timeout' | 'circuit_open' | 'http_5xx' | 'http_4xx' | 'network' | 'bad_response' | 'no_healthy_replica';

type Path = ReadonlyArray<string | number>;

export function unauthenticated(message = 'Authentication required: send an API key as "Authorization: Bearer <key>" or "x-api-key".'): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.UNAUTHENTICATED } });
}

export function forbidden(message = 'Not allowed.'): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.FORBIDDEN } });
}

export function badUserInput(message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.BAD_USER_INPUT, ...extra } });
}

export function notFound(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.NOT_FOUND } });
}

/** A request the router refuses before execution, with the HTTP status it answers with. */
export function badRequest(message: string, code: ErrorCode = ErrorCode.BAD_REQUEST, status = 400): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status } } });
}

/** A whole supergraph (gateway) could not answer its part of the operation. */
export function supergraphUnavailable(supergraph: string, path: Path, reason: FailureReason, attempts = 1): GraphQLError {
  const code = reason === 'timeout' ? ErrorCode.GATEWAY_TIMEOUT : ErrorCode.SUPERGRAPH_UNAVAILABLE;
  return new GraphQLError(`The ${supergraph} supergraph is unavailable.`, {
    path,
    extensions: { code, supergraph, reason, attempts },
  });
}

/** A subgraph call failed; serialised as a plain GraphQL error object for the gateway to relay. */
export function downstreamError(serviceName: string, reason: FailureReason, attempts = 1, path?: Path) {
  return {
    message: `The ${serviceName} service is unavailable.`,
    ...(path ? { path: [...path] } : {}),
    extensions: {
      code: reason === 'timeout' ? ErrorCode.GATEWAY_TIMEOUT : ErrorCode.DOWNSTREAM_SERVICE_ERROR,
      serviceName,
      reason,
      attempts,
    },
  };
}

/** The codes a client may see verbatim; anything else is masked. */
const PUBLIC_CODES = new Set<string>(Object.values(ErrorCode));

/** Keeps a known code and its extensions, hides everything else (stack traces, internal messages). */
export function isPublicError(error: { extensions?: Record<string, unknown> }): boolean {
  const code = error.extensions?.code;
  return typeof code === 'string' && PUBLIC_CODES.has(code);
}
