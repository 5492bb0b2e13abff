/**
 * The registry's definitions: every `extensions.code`, failure reason, fallback source and masked
 * message this platform sets. Errors themselves are built by the factories beside this file.
 */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  BAD_REQUEST: 'BAD_REQUEST',
  GRAPHQL_PARSE_FAILED: 'GRAPHQL_PARSE_FAILED',
  GRAPHQL_VALIDATION_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  OPERATION_RESOLUTION_FAILURE: 'OPERATION_RESOLUTION_FAILURE',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  /** A field or type the caller may not see (`@authenticated`, `@requiresScopes`): removed and answered null, as Apollo Router does. */
  UNAUTHORIZED_FIELD_OR_TYPE: 'UNAUTHORIZED_FIELD_OR_TYPE',
  NOT_FOUND: 'NOT_FOUND',
  /** The caller's token allowance is spent (the chat flow). */
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  /**
   * A write lost to concurrent writes of the same rows more often than it may retry by itself; it
   * changed nothing, and sending it again after `retryAfterSeconds` is safe (`retryable: true`).
   */
  WRITE_CONFLICT: 'WRITE_CONFLICT',
  RATE_LIMITED: 'RATE_LIMITED',
  DOWNSTREAM_SERVICE_ERROR: 'DOWNSTREAM_SERVICE_ERROR',
  SUPERGRAPH_UNAVAILABLE: 'SUPERGRAPH_UNAVAILABLE',
  GATEWAY_TIMEOUT: 'GATEWAY_TIMEOUT',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
  /** A stream that broke and could not be resumed; `after` names the last event delivered. */
  STREAM_INTERRUPTED: 'STREAM_INTERRUPTED',
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
  /** graphql-yoga's code for a body over the size limit, kept for the bodies we measure ourselves (decoded ones). */
  REQUEST_ENTITY_TOO_LARGE: 'REQUEST_ENTITY_TOO_LARGE',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Why an upstream call failed, as reported in `extensions.reason`. */
export const FAILURE_REASONS = ['timeout', 'circuit_open', 'http_5xx', 'http_4xx', 'network', 'bad_response', 'no_healthy_replica'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export function isFailureReason(value: unknown): value is FailureReason {
  return typeof value === 'string' && (FAILURE_REASONS as readonly string[]).includes(value);
}

/** How an upstream call failed after every attempt: the one shape a failure keeps on its way to the client. */
export interface UpstreamFailure {
  reason: FailureReason;
  attempts: number;
  /**
   * Whether the client may send the same operation again (`extensions.retryable`): false for a
   * write that may have been acted on and is not declared idempotent. Absent where it is not known.
   */
  retryable?: boolean;
}

/** What answered in place of a failed call, as reported in `extensions.fallback`. */
export const FALLBACK_SOURCES = ['cache', 'degraded'] as const;
export type FallbackSource = (typeof FALLBACK_SOURCES)[number];
export type FallbackExtension =
  | { source: 'cache'; cachedAt: string; ageMs: number }
  | { source: 'degraded'; message: string };

/**
 * Apollo's code for a value a subgraph answered that the operation's types refuse (a null in a non-null
 * field, an unknown enum value): reported under `extensions.valueCompletion`, never in `errors`, as
 * @apollo/gateway and Apollo Router report it. Not one of our codes: it is never public in `errors`.
 */
export const VALUE_COMPLETION_CODE = 'INVALID_GRAPHQL';

/** What a client sees in place of an error it may not see verbatim. */
export const MASKED_MESSAGE = 'Unexpected error.';

/** Operation limit codes; each refusal answers 400 before any gateway is called. */
export type OperationLimitCode = Extract<
  ErrorCode,
  'MAX_DEPTH_LIMIT' | 'MAX_ALIASES_LIMIT' | 'MAX_ROOT_FIELDS_LIMIT' | 'MAX_DIRECTIVES_LIMIT' | 'MAX_TOKENS_LIMIT' | 'MAX_VARIABLES_SIZE_LIMIT' | 'COST_ESTIMATED_TOO_EXPENSIVE'
>;

/** What `npm run compose` reports for a rover config it cannot read, next to composition's own codes. */
export const INVALID_COMPOSITION_CONFIG = 'INVALID_CONFIG';

/** What schema:check and hot reload report beside composition's own codes, as rover prints them (`CODE: message`). */
export const SCHEMA_PROBLEM = {
  /** Two supergraphs define the same root field: the router could not tell which to ask. */
  ROOT_FIELD_CONFLICT: 'ROOT_FIELD_CONFLICT',
  /** Two supergraphs define one type differently. */
  TYPE_CONFLICT: 'TYPE_CONFLICT',
  /** Any other reason the router cannot merge the supergraphs. */
  ROUTER_SCHEMA_INVALID: 'ROUTER_SCHEMA_INVALID',
  /** A watched supergraph file (or rover config) could not be read. */
  SUPERGRAPH_UNREADABLE: 'SUPERGRAPH_UNREADABLE',
} as const;

const PUBLIC_CODES = new Set<string>(Object.values(ErrorCode));

/** Whether an error carries one of our codes and may reach a client as it is; anything else is masked. */
export function isPublicError(error: { extensions?: Record<string, unknown> }): boolean {
  const code = error.extensions?.code;
  return typeof code === 'string' && PUBLIC_CODES.has(code);
}
