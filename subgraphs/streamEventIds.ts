import type { ExecutionResult } from 'graphql';
import type { SubgraphContext } from './subgraphContext.ts';

/**
 * Reports each subscription event's id as `extensions.eventId` (and so as its SSE `id`, see
 * lib/server/eventStreamAnswer.ts): a subscription resolver names the event it is resolving in
 * `context.streamEventId`, and a client or gateway that reconnects with that id as `Last-Event-ID`
 * resumes after it. Events of resolvers that name none go out without an id.
 */
export function withStreamEventId(context: Partial<SubgraphContext>, result: ExecutionResult): ExecutionResult {
  const eventId = context.streamEventId;
  if (!eventId) return result;
  context.streamEventId = undefined;
  return { ...result, extensions: { ...result.extensions, eventId } };
}
