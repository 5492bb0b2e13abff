import type { Plugin } from 'graphql-yoga';
import type { SubgraphContext } from './subgraphContext.ts';

/**
 * Reports each subscription event's id as `extensions.eventId` (and so as its SSE `id`, see
 * lib/server/useSseEventIds.ts): a subscription resolver names the event it is resolving in
 * `context.streamEventId`, and a client or gateway that reconnects with that id as `Last-Event-ID`
 * resumes after it. Events of resolvers that name none go out without an id.
 */
export function useStreamEventIds(): Plugin {
  return {
    onSubscribe() {
      return {
        onSubscribeResult({ args }) {
          const context = args.contextValue as Partial<SubgraphContext>;
          return {
            onNext({ result, setResult }) {
              const eventId = context.streamEventId;
              if (!eventId) return;
              context.streamEventId = undefined;
              setResult({ ...result, extensions: { ...result.extensions, eventId } });
            },
          };
        },
      };
    },
  };
}
