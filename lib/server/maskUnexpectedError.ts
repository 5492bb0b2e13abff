import type { GraphQLError } from 'graphql';
import { isPublicError, maskedError } from '../errors.ts';
import { withoutInternalExtensions } from '../errorTransforms.ts';

function isGraphQLErrorLike(value: unknown): value is GraphQLError {
  return value instanceof Error && value.name === 'GraphQLError';
}

/** A GraphQLError caused by nothing but GraphQLErrors: graphql-js's own (coercion, validation) or a deliberate one. */
function isOriginalGraphQLError(error: unknown): boolean {
  for (let cause: unknown = error, hops = 0; hops < 10; hops++) {
    if (!isGraphQLErrorLike(cause)) return false;
    cause = cause.originalError;
    if (cause == null) return true;
  }
  return false;
}

/**
 * Every component's error masking, as graphql-yoga's: a GraphQLError carrying one of our public codes
 * (BAD_USER_INPUT, UNAUTHENTICATED, ...) passes, and so does a GraphQLError nothing but GraphQL errors
 * caused; anything else (a resolver's TypeError, a store's error) becomes the masked
 * INTERNAL_SERVER_ERROR at the same path, so a client sees one masked message whichever tier failed.
 * Errors are told by name rather than `instanceof` (vitest loads graphql-js's CJS and ESM builds, and a
 * deliberate error must never turn into INTERNAL_SERVER_ERROR). Whatever passes loses its internal
 * extensions (`originalError`, stack traces). Returns the error itself when nothing changed, so a
 * caller can tell what to log.
 */
export function maskUnexpectedError(error: unknown): GraphQLError {
  if (isGraphQLErrorLike(error) && (isPublicError(error) || isOriginalGraphQLError(error))) return withoutInternalExtensions(error);
  return maskedError(isGraphQLErrorLike(error) ? error.path : undefined);
}
