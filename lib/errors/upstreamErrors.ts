import type { GraphQLError } from 'graphql';
import { codedError, type Extensions, type Path } from './buildError.ts';
import { ErrorCode, MASKED_MESSAGE, type FailureReason, type FallbackExtension, type UpstreamFailure } from './errorCodes.ts';

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
