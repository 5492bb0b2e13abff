import type { ASTNode, GraphQLError, GraphQLErrorOptions } from 'graphql';
import { codedError, refusal, type Extensions, type Path } from './buildError.ts';
import { ErrorCode, type OperationLimitCode } from './errorCodes.ts';

// Errors the caller caused: authentication, malformed or over-limit requests, bad input, spent allowances.

/**
 * The `http` hint of a request error in a well-formed GraphQL-over-HTTP request (a document that does
 * not parse or validate, variables that do not coerce, no operation to run): 400 for
 * `application/graphql-response+json`, 200 for `application/json`, as the spec says.
 */
const specError = () => ({ http: { status: 400, spec: true } });

export function unauthenticated(message = 'Authentication required: send an API key as "Authorization: Bearer <key>" or "x-api-key".'): GraphQLError {
  return codedError(message, ErrorCode.UNAUTHENTICATED);
}

/** An API key that names no one: 401 with a `WWW-Authenticate` challenge. */
export function invalidApiKey(): GraphQLError {
  return codedError('Invalid API key', ErrorCode.UNAUTHENTICATED, { http: { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } } });
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
  return codedError(message, ErrorCode.FORBIDDEN);
}

/** A field the caller may not see, taken out of its operation: null in the answer, this on its path (`@` per list level). */
export function unauthorizedFieldOrType(path: Array<string | number>): GraphQLError {
  return codedError('Unauthorized field or type', ErrorCode.UNAUTHORIZED_FIELD_OR_TYPE, {}, { path });
}

export function badUserInput(message: string, extra: Extensions = {}): GraphQLError {
  return codedError(message, ErrorCode.BAD_USER_INPUT, extra);
}

/**
 * Variables the operation cannot run with: BAD_USER_INPUT, keeping graphql-js's locations; 400, or 200
 * for an `application/json` client (a well-formed request, as the GraphQL-over-HTTP spec says).
 */
export function invalidVariables(original: GraphQLError): GraphQLError {
  return refusal(original.message, ErrorCode.BAD_USER_INPUT, 400, specError(), { nodes: original.nodes, source: original.source, positions: original.positions });
}

export function notFound(message: string): GraphQLError {
  return codedError(message, ErrorCode.NOT_FOUND);
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
  return codedError(`"${argument}" is longer than ${limit} characters.`, ErrorCode.BAD_USER_INPUT, { argument, limit });
}

/** The store refused a value the client sent (too long, too complex for it): the client's input, not the server's fault. */
export function storeRefusedInput(path?: Path, nodes?: readonly ASTNode[]): GraphQLError {
  return codedError('The store cannot take this input: a value is too long or too complex.', ErrorCode.BAD_USER_INPUT, {}, { path, nodes });
}

/** A document that does not parse: 400, or 200 for an `application/json` client, as for validation. */
export function parseFailed(original: GraphQLError): GraphQLError {
  return refusal(original.message, ErrorCode.GRAPHQL_PARSE_FAILED, 400, { ...original.extensions, ...specError() }, { source: original.source, positions: original.positions });
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
  return codedError(`Rate limit exceeded: retry in ${retryAfterSeconds} s.`, ErrorCode.RATE_LIMITED, {
    retryAfterSeconds,
    http: { status: 429, headers },
  });
}

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
  return codedError(message, code, { http: { status } });
}

const PERSISTED_QUERY_MESSAGES: Record<Extract<ErrorCode, `PERSISTED_QUERY_${string}`>, string> = {
  PERSISTED_QUERY_NOT_FOUND: 'PersistedQueryNotFound',
  PERSISTED_QUERY_HASH_MISMATCH: 'The sha256Hash does not match the query.',
  PERSISTED_QUERY_ID_REQUIRED: 'Only persisted operations are accepted here: send extensions.persistedQuery.sha256Hash without a query.',
  PERSISTED_QUERY_NOT_IN_LIST: 'This operation is not in the list of trusted operations.',
};

/** No operation, or not the one named, in the document: 400, or 200 for an `application/json` client. */
export function operationResolutionFailure(message: string): GraphQLError {
  return refusal(message, ErrorCode.OPERATION_RESOLUTION_FAILURE, 400, specError());
}

/** A mutation sent as a GET, which a browser or a cache may send again on its own: 405, POST only. */
export function mutationOverGet(): GraphQLError {
  return refusal('Mutations are sent with POST.', ErrorCode.BAD_REQUEST, 405, { http: { status: 405, spec: false, headers: { Allow: 'POST' } } });
}

/** A method GraphQL over HTTP does not use: 405. */
export function methodNotAllowed(): GraphQLError {
  return refusal('GraphQL only supports GET and POST requests.', ErrorCode.BAD_REQUEST, 405, { http: { status: 405, spec: false, headers: { Allow: 'GET, POST' } } });
}

/** A GraphQL request without a document (nor a persisted one's id): 400. */
export function missingQuery(): GraphQLError {
  return refusal('Must provide query string.', ErrorCode.BAD_REQUEST, 400);
}

/** A caller already holds as many open streams as it may: 429, like a rate limit. */
export function tooManyStreams(): GraphQLError {
  return codedError('Too many open subscriptions for this caller: close one before opening another.', ErrorCode.RATE_LIMITED, {
    http: { status: 429 },
  });
}

/**
 * A write that kept losing to concurrent writes of the same rows, rolled back: nothing changed and
 * the client may send it again (Retry-After). Never an INTERNAL_SERVER_ERROR: it is not a fault.
 */
export function writeConflict(retryAfterSeconds = 1): GraphQLError {
  return codedError('The write conflicted with concurrent writes and changed nothing; send it again.', ErrorCode.WRITE_CONFLICT, {
    retryable: true,
    retryAfterSeconds,
  });
}

/** The caller's token allowance cannot pay for the answer; it renews at `resetsAt` (ISO 8601). */
export function quotaExceeded(resetsAt: string, tokens: { remaining: number; required: number }): GraphQLError {
  return codedError(`Token quota exceeded: ${tokens.remaining} tokens left, ${tokens.required} needed. It renews at ${resetsAt}.`, ErrorCode.QUOTA_EXCEEDED, {
    resetsAt,
    ...tokens,
  });
}
