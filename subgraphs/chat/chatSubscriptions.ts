import type { GraphQLError } from 'graphql';
import { Repeater } from 'graphql-yoga';
import { badUserInput, notFound } from '../../lib/errors.ts';
import { requireUserId, type SubgraphContext } from '../subgraphContext.ts';
import type { AnswerMeta, ChatRuntime } from './chatRuntime.ts';
import type { RunningGeneration } from './runningGenerations.ts';
import { toChatChunk } from './chatViews.ts';
import type { StoredChunk } from './chunkLog/chunkLog.ts';
import type { ChatInput } from './startChatTurn.ts';

type Context = SubgraphContext<unknown, ChatRuntime>;

/** One event of a chat subscription: a chunk, or the error that ends the stream. */
type ChunkEvent = { chunk: ReturnType<typeof toChatChunk> } | { error: GraphQLError };

/**
 * The events of one subscription: the answer `open` finds (a new turn, or one already written),
 * followed until done. It is a Repeater so that a client going away (the SSE response cancelled)
 * aborts the follower at once, even mid-wait, and with it the generation when nobody else listens.
 * A failure becomes the last event, which `resolve` turns into a GraphQL error with its code: a
 * subscription whose iterator throws would just be cut off.
 */
function chunkEvents(
  open: () => Promise<{ meta: AnswerMeta; generation?: RunningGeneration }>,
  follow: (meta: AnswerMeta, signal: AbortSignal, generation?: RunningGeneration) => AsyncGenerator<StoredChunk>,
): Repeater<ChunkEvent> {
  return new Repeater<ChunkEvent>(async (push, stop) => {
    const controller = new AbortController();
    void stop.then(() => controller.abort());
    try {
      const { meta, generation } = await open();
      for await (const chunk of follow(meta, controller.signal, generation)) await push({ chunk: toChatChunk(meta, chunk) });
    } catch (error) {
      if (!controller.signal.aborted) await push({ error: error as GraphQLError });
    }
    stop();
  });
}

/** The event id of a chunk, `<messageId>:<index>`: what a client resumes after. */
export function chunkEventId(chunk: { messageId: string; index: number }): string {
  return `${chunk.messageId}:${chunk.index}`;
}

/** `<messageId>:<index>` back to its parts; undefined for anything else. */
export function parseChunkEventId(eventId: string | undefined): { messageId: string; after: number } | undefined {
  const match = eventId?.match(/^(.{1,200}):(-1|\d{1,9})$/);
  return match ? { messageId: match[1], after: Number(match[2]) } : undefined;
}

const resolveChunk = (event: ChunkEvent, _args: unknown, context: Context) => {
  if ('error' in event) throw event.error;
  context.streamEventId = chunkEventId(event.chunk);
  return event.chunk;
};

/** Follows an answer of the caller's after `after`: chatResume, and chatStream when it resumes. */
async function resume(context: Context, messageId: string, after: number) {
  const userId = requireUserId(context);
  if (!Number.isInteger(after) || after < -1) throw badUserInput('"after" must be -1 (from the start) or a chunk index.', { argument: 'after' });
  const meta = await context.runtime.answerMeta(messageId);
  // Another user's answer looks like a missing one.
  if (!meta || meta.userId !== userId) throw notFound(`Message "${messageId}" not found.`);
  return chunkEvents(async () => ({ meta }), (found, signal) => context.runtime.follow(found.messageId, after, signal));
}

/** Subscription resolvers of the chat subgraph: chatStream and chatResume. */
export const chatSubscriptionResolvers = {
  chatStream: {
    // The stream is accepted at once and the turn starts inside it: starting one (quota, context,
    // prompt cache, store writes) queues behind the user's other turns and every writer of the store,
    // and no hop should hold its opening deadline on that queue. A refusal before the first token
    // (QUOTA_EXCEEDED, FORBIDDEN, NOT_FOUND, …) is the stream's one event, an error with its code.
    subscribe: async (_source: unknown, args: { input: ChatInput }, context: Context) => {
      // A reconnection (a client's or a gateway's Last-Event-ID) continues the answer it was following.
      const resumed = parseChunkEventId(context.lastEventId);
      if (resumed) return resume(context, resumed.messageId, resumed.after);
      const userId = requireUserId(context);
      return chunkEvents(
        () => context.runtime.startTurn(userId, args.input),
        (meta, signal, generation) => context.runtime.follow(meta.messageId, -1, signal, generation),
      );
    },
    resolve: resolveChunk,
  },
  chatResume: {
    subscribe: async (_source: unknown, args: { messageId: string; after: number }, context: Context) => {
      const resumed = parseChunkEventId(context.lastEventId);
      return resumed && resumed.messageId === args.messageId ? resume(context, resumed.messageId, resumed.after) : resume(context, args.messageId, args.after);
    },
    resolve: resolveChunk,
  },
};

/** The chat mutation's way: the same stream, read to the end; its text is what gets stored. */
export async function readAnswerToEnd(runtime: ChatRuntime, userId: string, input: ChatInput): Promise<AnswerMeta> {
  const { meta, generation } = await runtime.startTurn(userId, input);
  const controller = new AbortController();
  for await (const chunk of runtime.follow(meta.messageId, -1, controller.signal, generation)) {
    if (chunk.done) break;
  }
  return meta;
}
