import { GraphQLError, type ASTNode } from 'graphql';

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
  // Edge limits, named after Apollo Router's where it has one.
  MAX_DEPTH_LIMIT: 'MAX_DEPTH_LIMIT',
  MAX_ALIASES_LIMIT: 'MAX_ALIASES_LIMIT',
  MAX_ROOT_FIELDS_LIMIT: 'MAX_ROOT_FIELDS_LIMIT',
  MAX_DIRECTIVES_LIMIT: 'MAX_DIRECTIVES_LIMIT',
  MAX_TOKENS_LIMIT: 'MAX_TOKENS_LIMIT',
  MAX_VARIABLES_SIZE_LIMIT: 'MAX_VARIABLES_SIZE_LIMIT',
  COST_ESTIMATED_TOO_EXPENSIVE: 'COST_ESTIMATED_TOO_EXPENSIVE',
  // Persisted operations: Apollo's APQ protocol and Apollo Router's safelisting codes.
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  PERSISTED_QUERY_HASH_MISMATCH: 'PERSISTED_QUERY_HASH_MISMATCH',
  PERSISTED_QUERY_NOT_IN_LIST: 'PERSISTED_QUERY_NOT_IN_LIST',
  PERSISTED_QUERY_ID_REQUIRED: 'PERSISTED_QUERY_ID_REQUIRED',
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

/** The caller spent its allowance; `headers` carry Retry-After and the RateLimit fields. */
export function rateLimited(retryAfterSeconds: number, headers: Record<string, string> = {}): GraphQLError {
  return new GraphQLError(`Rate limit exceeded: retry in ${retryAfterSeconds} s.`, {
    extensions: { code: ErrorCode.RATE_LIMITED, retryAfterSeconds, http: { status: 429, headers } },
  });
}

/** Operation limit codes; each refusal answers 400 before any gateway is called. */
export type OperationLimitCode = Extract<
  ErrorCode,
  'MAX_DEPTH_LIMIT' | 'MAX_ALIASES_LIMIT' | 'MAX_ROOT_FIELDS_LIMIT' | 'MAX_DIRECTIVES_LIMIT' | 'MAX_TOKENS_LIMIT' | 'MAX_VARIABLES_SIZE_LIMIT' | 'COST_ESTIMATED_TOO_EXPENSIVE'
>;

/**
 * An operation over one of the edge's limits. `spec: false` keeps the 400 for `Accept:
 * application/json` too, where yoga answers ordinary validation errors with 200 as the
 * GraphQL-over-HTTP spec says: a client must see that retrying the same operation is pointless.
 */
export function operationLimitExceeded(
  code: OperationLimitCode,
  message: string,
  details: { limit: number; actual?: number },
  nodes?: ASTNode | readonly ASTNode[],
): GraphQLError {
  return new GraphQLError(message, { nodes, extensions: { code, ...details, http: { status: 400, spec: false } } });
}

/** A persisted-operation refusal; the message is the one Apollo clients look for. */
export function persistedQueryError(
  code: Extract<ErrorCode, `PERSISTED_QUERY_${string}`>,
  status: number,
  message: string = persistedQueryMessage(code),
): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status } } });
}

function persistedQueryMessage(code: string): string {
  switch (code) {
    case ErrorCode.PERSISTED_QUERY_NOT_FOUND:
      return 'PersistedQueryNotFound';
    case ErrorCode.PERSISTED_QUERY_HASH_MISMATCH:
      return 'The sha256Hash does not match the query.';
    case ErrorCode.PERSISTED_QUERY_ID_REQUIRED:
      return 'Only persisted operations are accepted here: send extensions.persistedQuery.sha256Hash without a query.';
    default:
      return 'This operation is not in the list of trusted operations.';
  }
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
