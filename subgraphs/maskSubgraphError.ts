import type { GraphQLError } from 'graphql';
import { storeRefusedInput } from '../lib/errors.ts';
import { maskUnexpectedError } from '../lib/server/maskUnexpectedError.ts';
import { isStoreInputError } from './store/isStoreInputError.ts';

/**
 * A subgraph's error masking: a store error the input caused (isStoreInputError) becomes
 * BAD_USER_INPUT on the same field, without the engine's message; everything else is masked as in
 * every component. The original still goes to the log (createGraphQLRunner).
 */
export function maskSubgraphError(error: unknown): GraphQLError {
  let cause: unknown = error;
  for (let hops = 0; cause instanceof Error && hops < 5; hops++) {
    if (isStoreInputError(cause)) {
      const located = error as Partial<Pick<GraphQLError, 'path' | 'nodes'>>;
      return storeRefusedInput(located.path, located.nodes ?? undefined);
    }
    cause = (cause as { originalError?: unknown }).originalError;
  }
  return maskUnexpectedError(error);
}
