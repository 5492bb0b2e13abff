import { maskError } from 'graphql-yoga';
import { isPublicError } from '../errors.ts';
import { withoutInternalExtensions } from '../errorTransforms.ts';

function isGraphQLErrorLike(value: unknown): value is Error & { extensions?: Record<string, unknown> } {
  return value instanceof Error && value.name === 'GraphQLError';
}

/**
 * Yoga's error masking, but a GraphQLError carrying one of our public codes (BAD_USER_INPUT,
 * UNAUTHENTICATED, ...) always passes. Yoga recognises errors with `instanceof`, which fails when two
 * copies of graphql-js are loaded (its CJS and ESM builds, as under vitest), and a deliberate error
 * must never turn into INTERNAL_SERVER_ERROR. Everything else is masked, never in dev mode. Used by
 * every component, so a client sees one masked message whichever tier failed. Whatever passes loses
 * its internal extensions (`originalError`, which yoga fills with the JSON parser's message quoting
 * the raw body), so nothing a client sent or a server knows is echoed back.
 */
export function maskUnexpectedError(error: unknown, message: string): Error {
  return strip(choose(error, message));
}

function choose(error: unknown, message: string): Error {
  if (isGraphQLErrorLike(error) && isPublicError(error)) return error;
  const original = (error as { originalError?: unknown } | null)?.originalError ?? error;
  if (isGraphQLErrorLike(original) && isPublicError(original)) return error as Error;
  return maskError(error, message, false);
}

function strip(error: Error): Error {
  return isGraphQLErrorLike(error) ? withoutInternalExtensions(error as Parameters<typeof withoutInternalExtensions>[0]) : error;
}
