import { GraphQLError } from 'graphql';
import { codedError, type Extensions, type Path } from './buildError.ts';
import { ErrorCode, MASKED_MESSAGE, VALUE_COMPLETION_CODE, type FailureReason, type FallbackExtension, type UpstreamFailure } from './errorCodes.ts';

// Errors for what failed behind us: supergraphs, subgraphs, streams, outside services; and masking.

/** A whole supergraph (gateway) could not answer its part of the operation; `fallback` when something stood in. */
export function supergraphUnavailable(supergraph: string, path: Path | undefined, failure: UpstreamFailure, fallback?: FallbackExtension): GraphQLError {
  const code = failure.reason === 'timeout' ? ErrorCode.GATEWAY_TIMEOUT : ErrorCode.SUPERGRAPH_UNAVAILABLE;
  return codedError(`The ${supergraph} supergraph is unavailable.`, code, { supergraph, ...failure, ...(fallback ? { fallback } : {}) }, { path });
}

/** The API key could not be checked because the identity supergraph failed; the request runs anonymously. */
export function identityUnavailable(supergraph: string, failure: UpstreamFailure): GraphQLError {
  return codedError(
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

/** A subscription's upstream stream broke and no replica could resume it: never a silent end. */
export function streamInterrupted(upstream: string, after: string | undefined): GraphQLError {
  return codedError('The stream was interrupted and could not be resumed; resubscribe to continue.', ErrorCode.STREAM_INTERRUPTED, {
    upstream,
    ...(after ? { after } : {}),
  });
}

/** An error a client may not see verbatim, reduced to the masked message and its path. */
export function maskedError(path?: Path, extra: Extensions = {}): GraphQLError {
  return codedError(MASKED_MESSAGE, ErrorCode.INTERNAL_SERVER_ERROR, extra, { path });
}

/** A streamed answer that nothing can continue (its chunks are lost): the chat stream ends with this. */
export function answerInterrupted(messageId: string, lastIndex: number): GraphQLError {
  return codedError('The answer was interrupted and cannot be resumed; ask again.', ErrorCode.STREAM_INTERRUPTED, { messageId, lastIndex });
}

/**
 * A service outside the platform (e.g. the model backend) failed, as a GraphQLError for a resolver
 * to throw. `extra` carries safe details (messageId, lastIndex); never the service's URL or body.
 */
export function externalServiceError(serviceName: string, reason: FailureReason, extra: Extensions = {}): GraphQLError {
  const code = reason === 'timeout' ? ErrorCode.GATEWAY_TIMEOUT : ErrorCode.DOWNSTREAM_SERVICE_ERROR;
  return codedError(`The ${serviceName} service failed.`, code, { serviceName, reason, ...extra });
}

/** A service outside the platform refused for its own rate limit; retry after `retryAfterMs` when known. */
export function externalServiceRateLimited(serviceName: string, retryAfterMs: number | undefined, extra: Extensions = {}): GraphQLError {
  return codedError(`The ${serviceName} service is busy; try again later.`, ErrorCode.RATE_LIMITED, {
    serviceName,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    ...extra,
  });
}

/** An error as a subgraph wrote it in its answer (or as the data source reported a failed fetch). */
export interface SubgraphWireError {
  message?: unknown;
  path?: unknown;
  extensions?: unknown;
}

/**
 * A subgraph's error as the gateway's plan executor relays it, exactly as @apollo/gateway does: the
 * subgraph's message (or a generic one), its extensions plus `serviceName`, its code kept and
 * DOWNSTREAM_SERVICE_ERROR when it set none, on the client's `path`. The wire error stays the cause.
 */
export function subgraphError(wire: SubgraphWireError, serviceName: string, path: Path | undefined): GraphQLError {
  const extensions = (wire.extensions && typeof wire.extensions === 'object' ? wire.extensions : undefined) as Extensions | undefined;
  const message = typeof wire.message === 'string' && wire.message ? wire.message : `Error while fetching subquery from service "${serviceName}"`;
  return new GraphQLError(message, {
    originalError: wire as Error,
    path,
    extensions: { ...extensions, serviceName, code: extensions?.code || ErrorCode.DOWNSTREAM_SERVICE_ERROR },
  });
}

/** A value a subgraph answered that the operation's types refuse, for `extensions.valueCompletion`. */
export function valueCompletionError(message: string, path: Path): GraphQLError {
  return new GraphQLError(message, { path, extensions: { code: VALUE_COMPLETION_CODE } });
}
