import type { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { ErrorCode } from '../../lib/errors.ts';

/**
 * `Retry-After` on an answer whose write lost to concurrent writes more often than it could retry
 * by itself (WRITE_CONFLICT, relayed from a subgraph with `retryAfterSeconds`): the header a client's
 * HTTP stack already honours, beside the extensions a GraphQL client reads. Rate limits set their
 * own (useRateLimit).
 */
export function useRetryAfter(): Plugin {
  const retryAfter = new WeakMap<Request, number>();
  return {
    onResultProcess({ request, result }) {
      if (!result || typeof result !== 'object' || Symbol.asyncIterator in result) return;
      const errors = (Array.isArray(result) ? result : [result]).flatMap((r) => (r as { errors?: readonly GraphQLError[] }).errors ?? []);
      const seconds = errors
        .filter((e) => e.extensions?.code === ErrorCode.WRITE_CONFLICT && typeof e.extensions.retryAfterSeconds === 'number')
        .map((e) => e.extensions.retryAfterSeconds as number);
      if (seconds.length) retryAfter.set(request, Math.max(...seconds));
    },
    onResponse({ request, response }) {
      const seconds = retryAfter.get(request);
      if (seconds !== undefined && !response.headers.has('retry-after')) response.headers.set('retry-after', String(Math.ceil(seconds)));
    },
  };
}
