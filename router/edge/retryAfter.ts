import type { ExecutionResult } from 'graphql';
import { ErrorCode } from '../../lib/errors.ts';

/**
 * `Retry-After` for an answer whose write lost to concurrent writes more often than it could retry
 * by itself (WRITE_CONFLICT, relayed from a subgraph with `retryAfterSeconds`): the header a client's
 * HTTP stack already honours, beside the extensions a GraphQL client reads. Undefined when no error
 * asks for it. Rate limits set their own (rateLimitStage.ts).
 */
export function retryAfter(result: ExecutionResult): string | undefined {
  let seconds: number | undefined;
  for (const error of result.errors ?? []) {
    const wait = error.extensions?.code === ErrorCode.WRITE_CONFLICT ? error.extensions.retryAfterSeconds : undefined;
    if (typeof wait === 'number') seconds = Math.max(seconds ?? 0, wait);
  }
  return seconds === undefined ? undefined : String(Math.ceil(seconds));
}
