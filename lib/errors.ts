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
  STREAM_INTERRUPTED: 'STREAM_INTERRUPTED',
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

/** The caller's token allowance cannot pay for the answer; it renews at `resetsAt` (ISO 8601). */
export function quotaExceeded(resetsAt: string, tokens: { remaining: number; required: number }): GraphQLError {
  return new GraphQLError(`Token quota exceeded: ${tokens.remaining} tokens left, ${tokens.required} needed. It renews at ${resetsAt}.`, {
    extensions: { code: ErrorCode.QUOTA_EXCEEDED, resetsAt, ...tokens },
  });
}

/** A streamed answer that nothing can continue (its chunks are lost); the stream ends with this. */
export function streamInterrupted(messageId: string, lastIndex: number): GraphQLError {
  return new GraphQLError('The answer was interrupted and cannot be resumed; ask again.', {
    extensions: { code: ErrorCode.STREAM_INTERRUPTED, messageId, lastIndex },
  });
}

/**
 * A service outside the platform (e.g. the model backend) failed, as a GraphQLError for a resolver
 * to throw. `extra` carries safe details (messageId, lastIndex); never the service's URL or body.
 */
export function externalServiceError(serviceName: string, reason: FailureReason, extra: Record<string, unknown> = {}): GraphQLError {
  const code = reason === 'timeout' ? ErrorCode.GATEWAY_TIMEOUT : ErrorCode.DOWNSTREAM_SERVICE_ERROR;
  return new GraphQLError(`The ${serviceName} service failed.`, { extensions: { code, serviceName, reason, ...extra } });
}

/** A service outside the platform refused for its own rate limit; retry after `retryAfterMs` when known. */
export function externalServiceRateLimited(serviceName: string, retryAfterMs: number | undefined, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(`The ${serviceName} service is busy; try again later.`, {
    extensions: { code: ErrorCode.RATE_LIMITED, serviceName, ...(retryAfterMs === undefined ? {} : { retryAfterMs }), ...extra },
  });
}

/** The codes a client may see verbatim; anything else is masked. */
const PUBLIC_CODES = new Set<string>(Object.values(ErrorCode));

/** Keeps a known code and its extensions, hides everything else (stack traces, internal messages). */
export function isPublicError(error: { extensions?: Record<string, unknown> }): boolean {
  const code = error.extensions?.code;
  return typeof code === 'string' && PUBLIC_CODES.has(code);
}
