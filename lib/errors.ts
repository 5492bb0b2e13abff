import { GraphQLError, type ASTNode, type GraphQLErrorOptions } from 'graphql';

/**
 * The error registry: every `extensions.code`, failure reason, fallback source and masked message this
 * platform sets is defined here, and every error is built by one of the factories below.
 */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  BAD_REQUEST: 'BAD_REQUEST',
  GRAPHQL_PARSE_FAILED: 'GRAPHQL_PARSE_FAILED',
  GRAPHQL_VALIDATION_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  OPERATION_RESOLUTION_FAILURE: 'OPERATION_RESOLUTION_FAILURE',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  /** The caller's token allowance is spent (the chat flow). */
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
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
}

/** What answered in place of a failed call, as reported in `extensions.fallback`. */
export const FALLBACK_SOURCES = ['cache', 'degraded'] as const;
export type FallbackSource = (typeof FALLBACK_SOURCES)[number];
export type FallbackExtension =
  | { source: 'cache'; cachedAt: string; ageMs: number }
  | { source: 'degraded'; message: string };

/** What a client sees in place of an error it may not see verbatim. */
export const MASKED_MESSAGE = 'Unexpected error.';

type Path = ReadonlyArray<string | number>;
type Extensions = Record<string, unknown>;

function error(message: string, code: ErrorCode, extensions: Extensions = {}, options: GraphQLErrorOptions = {}): GraphQLError {
  return new GraphQLError(message, { ...options, extensions: { code, ...extensions } });
}

/** An error the client caused, answered before execution with `status` (400 unless said otherwise). */
function refusal(message: string, code: ErrorCode, status: number, extensions: Extensions = {}, options: GraphQLErrorOptions = {}): GraphQLError {
  // spec: false keeps the status for `Accept: application/json` too, where yoga would answer a
  // validation error with 200; an `http` in `extensions` (yoga's own, on a converted error) wins.
  return error(message, code, { http: { status, spec: false }, ...extensions }, options);
}

export function unauthenticated(message = 'Authentication required: send an API key as "Authorization: Bearer <key>" or "x-api-key".'): GraphQLError {
  return error(message, ErrorCode.UNAUTHENTICATED);
}

/** An API key that names no one: 401 with a `WWW-Authenticate` challenge. */
export function invalidApiKey(): GraphQLError {
  return error('Invalid API key', ErrorCode.UNAUTHENTICATED, { http: { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } } });
}

/**
 * A request to a gateway or subgraph without a valid router signature (missing, forged, expired,
 * or signed with a secret this service does not hold): 401, public fields included.
 */
export function unsignedRequest(): GraphQLError {
  return refusal('This service answers only requests signed by the router.', ErrorCode.UNAUTHENTICATED, 401);
}

/** A browser "simple request" that could be a cross-site request forgery, refused as @apollo/server does. */
export function csrfBlocked(requiredHeaders: readonly string[], simpleContentTypes: readonly string[]): GraphQLError {
  return refusal(
    'This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). Please either specify a ' +
      `'content-type' header (with a type that is not one of ${simpleContentTypes.join(', ')}) or provide a non-empty ` +
      `value for one of the following headers: ${requiredHeaders.join(', ')}`,
    ErrorCode.BAD_REQUEST,
    400,
  );
}

/** Introspection asked of a router that has it turned off (production, unless enabled). */
export function introspectionDisabled(nodes?: ASTNode | readonly ASTNode[]): GraphQLError {
  return refusal(
    'GraphQL introspection is not allowed here, but the query contained __schema or __type.',
    ErrorCode.GRAPHQL_VALIDATION_FAILED,
    400,
    {},
    { nodes },
  );
}

export function forbidden(message = 'Not allowed.'): GraphQLError {
  return error(message, ErrorCode.FORBIDDEN);
}

export function badUserInput(message: string, extra: Extensions = {}): GraphQLError {
  return error(message, ErrorCode.BAD_USER_INPUT, extra);
}

/** Variables the operation cannot run with: 400 BAD_USER_INPUT, keeping graphql-js's locations. */
export function invalidVariables(original: GraphQLError): GraphQLError {
  return refusal(original.message, ErrorCode.BAD_USER_INPUT, 400, {}, { nodes: original.nodes, source: original.source, positions: original.positions });
}

export function notFound(message: string): GraphQLError {
  return error(message, ErrorCode.NOT_FOUND);
}

/** A malformed HTTP request (body, content type, size): refused with `status`. */
export function badRequest(message: string, status = 400): GraphQLError {
  return refusal(message, ErrorCode.BAD_REQUEST, status);
}

/** A body over `limit` bytes, as sent or once decoded (Content-Encoding): 413. */
export function requestTooLarge(limit: number, decoded = false): GraphQLError {
  return refusal(`The request body is larger than ${limit} bytes${decoded ? ' once decoded' : ''}.`, ErrorCode.REQUEST_ENTITY_TOO_LARGE, 413, { limit });
}

/** A Content-Encoding the server cannot decode: 415, with the codings it can in `Accept-Encoding` (RFC 9110 §15.5.16). */
export function unsupportedContentEncoding(supported: readonly string[]): GraphQLError {
  const accepted = supported.join(', ');
  return refusal(`The request's Content-Encoding is not supported: send ${accepted} or none.`, ErrorCode.BAD_REQUEST, 415, {
    http: { status: 415, spec: false, headers: { 'Accept-Encoding': accepted } },
  });
}

/** A variable whose value nests deeper than `limit` arrays and objects; `name` only when it is a GraphQL name worth echoing. */
export function variableTooDeep(name: string | undefined, limit: number): GraphQLError {
  const which = name ? `Variable "$${name}"` : 'A variable';
  return refusal(`${which} is nested deeper than ${limit} levels.`, ErrorCode.BAD_USER_INPUT, 400, { limit, ...(name ? { variable: name } : {}) });
}

/** A request over one of the server's structural limits (nesting of the document or of `extensions`, their size). */
export function requestOverLimit(message: string, details: { limit: number; actual?: number }): GraphQLError {
  return refusal(message, ErrorCode.BAD_REQUEST, 400, details);
}

/** A string argument (or input field, `argument` being its path) over its documented length. */
export function stringTooLong(argument: string, limit: number): GraphQLError {
  return error(`"${argument}" is longer than ${limit} characters.`, ErrorCode.BAD_USER_INPUT, { argument, limit });
}

/** The store refused a value the client sent (too long, too complex for it): the client's input, not the server's fault. */
export function storeRefusedInput(path?: Path, nodes?: readonly ASTNode[]): GraphQLError {
  return error('The store cannot take this input: a value is too long or too complex.', ErrorCode.BAD_USER_INPUT, {}, { path, nodes });
}

/** A document that does not parse (keeping yoga's `http` extension when it set one, as for validation). */
export function parseFailed(original: GraphQLError): GraphQLError {
  return refusal(original.message, ErrorCode.GRAPHQL_PARSE_FAILED, 400, { ...original.extensions }, { source: original.source, positions: original.positions });
}

/**
 * A document that breaks a validation rule: 400 whatever the client accepts, unless `extra` brings
 * its own `http` (graphql-js rules keep yoga's, which answers `Accept: application/json` with 200 as
 * the GraphQL-over-HTTP spec says). `extra` also says which limit, when one was exceeded.
 */
export function validationFailed(message: string, options: GraphQLErrorOptions = {}, extra: Extensions = {}): GraphQLError {
  return refusal(message, ErrorCode.GRAPHQL_VALIDATION_FAILED, 400, extra, options);
}

/** The caller spent its allowance; `headers` carry Retry-After and the RateLimit fields. */
export function rateLimited(retryAfterSeconds: number, headers: Record<string, string> = {}): GraphQLError {
  return error(`Rate limit exceeded: retry in ${retryAfterSeconds} s.`, ErrorCode.RATE_LIMITED, {
    retryAfterSeconds,
    http: { status: 429, headers },
  });
}

/** Operation limit codes; each refusal answers 400 before any gateway is called. */
export type OperationLimitCode = Extract<
  ErrorCode,
  'MAX_DEPTH_LIMIT' | 'MAX_ALIASES_LIMIT' | 'MAX_ROOT_FIELDS_LIMIT' | 'MAX_DIRECTIVES_LIMIT' | 'MAX_TOKENS_LIMIT' | 'MAX_VARIABLES_SIZE_LIMIT' | 'COST_ESTIMATED_TOO_EXPENSIVE'
>;

/**
 * An operation over one of the edge's limits: 400 for `Accept: application/json` too, so a client
 * sees that retrying the same operation is pointless.
 */
export function operationLimitExceeded(
  code: OperationLimitCode,
  message: string,
  details: { limit: number; actual?: number },
  nodes?: ASTNode | readonly ASTNode[],
): GraphQLError {
  return refusal(message, code, 400, details, { nodes });
}

/** A persisted-operation refusal; the message is the one Apollo clients look for. */
export function persistedQueryError(
  code: Extract<ErrorCode, `PERSISTED_QUERY_${string}`>,
  status: number,
  message: string = PERSISTED_QUERY_MESSAGES[code],
): GraphQLError {
  return error(message, code, { http: { status } });
}

const PERSISTED_QUERY_MESSAGES: Record<Extract<ErrorCode, `PERSISTED_QUERY_${string}`>, string> = {
  PERSISTED_QUERY_NOT_FOUND: 'PersistedQueryNotFound',
  PERSISTED_QUERY_HASH_MISMATCH: 'The sha256Hash does not match the query.',
  PERSISTED_QUERY_ID_REQUIRED: 'Only persisted operations are accepted here: send extensions.persistedQuery.sha256Hash without a query.',
  PERSISTED_QUERY_NOT_IN_LIST: 'This operation is not in the list of trusted operations.',
};

/** No operation, or not the one named, in the document. */
export function operationResolutionFailure(message: string): GraphQLError {
  return refusal(message, ErrorCode.OPERATION_RESOLUTION_FAILURE, 400);
}

/** A whole supergraph (gateway) could not answer its part of the operation; `fallback` when something stood in. */
export function supergraphUnavailable(supergraph: string, path: Path | undefined, failure: UpstreamFailure, fallback?: FallbackExtension): GraphQLError {
  const code = failure.reason === 'timeout' ? ErrorCode.GATEWAY_TIMEOUT : ErrorCode.SUPERGRAPH_UNAVAILABLE;
  return error(`The ${supergraph} supergraph is unavailable.`, code, { supergraph, ...failure, ...(fallback ? { fallback } : {}) }, { path });
}

/** The API key could not be checked because the identity supergraph failed; the request runs anonymously. */
export function identityUnavailable(supergraph: string, failure: UpstreamFailure): GraphQLError {
  return error(
    `The API key could not be checked because the ${supergraph} supergraph is unavailable; the request ran anonymously.`,
    ErrorCode.SUPERGRAPH_UNAVAILABLE,
    { supergraph, ...failure },
  );
}

/** A subgraph call failed; `fallback` when something stood in. Plain JSON: the gateway relays it as a subgraph error. */
export function downstreamError(serviceName: string, failure: UpstreamFailure, path?: Path, fallback?: FallbackExtension) {
  return {
    message: `The ${serviceName} service is unavailable.`,
    ...(path ? { path: [...path] } : {}),
    extensions: {
      code: failure.reason === 'timeout' ? ErrorCode.GATEWAY_TIMEOUT : ErrorCode.DOWNSTREAM_SERVICE_ERROR,
      serviceName,
      ...failure,
      ...(fallback ? { fallback } : {}),
    },
  };
}

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

/** A caller already holds as many open streams as it may: 429, like a rate limit. */
export function tooManyStreams(): GraphQLError {
  return error('Too many open subscriptions for this caller: close one before opening another.', ErrorCode.RATE_LIMITED, {
    http: { status: 429 },
  });
}

/** A subscription's upstream stream broke and no replica could resume it: never a silent end. */
export function streamInterrupted(upstream: string, after: string | undefined): GraphQLError {
  return error('The stream was interrupted and could not be resumed; resubscribe to continue.', ErrorCode.STREAM_INTERRUPTED, {
    upstream,
    ...(after ? { after } : {}),
  });
}

/** An error a client may not see verbatim, reduced to the masked message and its path. */
export function maskedError(path?: Path, extra: Extensions = {}): GraphQLError {
  return error(MASKED_MESSAGE, ErrorCode.INTERNAL_SERVER_ERROR, extra, { path });
}

/** The caller's token allowance cannot pay for the answer; it renews at `resetsAt` (ISO 8601). */
export function quotaExceeded(resetsAt: string, tokens: { remaining: number; required: number }): GraphQLError {
  return error(`Token quota exceeded: ${tokens.remaining} tokens left, ${tokens.required} needed. It renews at ${resetsAt}.`, ErrorCode.QUOTA_EXCEEDED, {
    resetsAt,
    ...tokens,
  });
}

/** A streamed answer that nothing can continue (its chunks are lost): the chat stream ends with this. */
export function answerInterrupted(messageId: string, lastIndex: number): GraphQLError {
  return error('The answer was interrupted and cannot be resumed; ask again.', ErrorCode.STREAM_INTERRUPTED, { messageId, lastIndex });
}

/**
 * A service outside the platform (e.g. the model backend) failed, as a GraphQLError for a resolver
 * to throw. `extra` carries safe details (messageId, lastIndex); never the service's URL or body.
 */
export function externalServiceError(serviceName: string, reason: FailureReason, extra: Extensions = {}): GraphQLError {
  const code = reason === 'timeout' ? ErrorCode.GATEWAY_TIMEOUT : ErrorCode.DOWNSTREAM_SERVICE_ERROR;
  return error(`The ${serviceName} service failed.`, code, { serviceName, reason, ...extra });
}

/** A service outside the platform refused for its own rate limit; retry after `retryAfterMs` when known. */
export function externalServiceRateLimited(serviceName: string, retryAfterMs: number | undefined, extra: Extensions = {}): GraphQLError {
  return error(`The ${serviceName} service is busy; try again later.`, ErrorCode.RATE_LIMITED, {
    serviceName,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    ...extra,
  });
}

const PUBLIC_CODES = new Set<string>(Object.values(ErrorCode));

/** Whether an error carries one of our codes and may reach a client as it is; anything else is masked. */
export function isPublicError(error: { extensions?: Record<string, unknown> }): boolean {
  const code = error.extensions?.code;
  return typeof code === 'string' && PUBLIC_CODES.has(code);
}
