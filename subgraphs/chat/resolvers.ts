import { requireUserId, type SubgraphContext } from '../subgraphContext.ts';
import type { SubgraphResolvers } from '../subgraphDefinition.ts';
import type { ChatRuntime } from './chatRuntime.ts';
import { chatSubscriptionResolvers, readAnswerToEnd } from './chatSubscriptions.ts';
import { toConversation, toMessage, toModel } from './chatViews.ts';
import type { ChatLoaders } from './loaders.ts';
import type { ChatInput } from './startChatTurn.ts';

type Context = SubgraphContext<ChatLoaders, ChatRuntime>;

/** The caller's conversation, or null: another user's conversation looks like a missing one. */
async function ownConversation(context: Context, id: string) {
  const userId = requireUserId(context);
  const row = await context.loaders.conversationById.load(id);
  return row && row.user_id === userId ? row : null;
}

/** Resolvers of the chat subgraph: models, conversations, the chat mutation and the chat subscriptions. */
export const chatResolvers: SubgraphResolvers<Context> = {
  Query: {
    models: async (_source: unknown, _args: unknown, context: Context) => {
      const rows = await context.db.selectFrom('models').selectAll().orderBy('context_window').orderBy('id').execute();
      for (const row of rows) context.loaders.modelById.prime(row.id, row);
      return rows.map(toModel);
    },
    conversation: async (_source: unknown, args: { id: string }, context: Context) => {
      const row = await ownConversation(context, args.id);
      return row && toConversation(row);
    },
  },
  Mutation: {
    chat: async (_source: unknown, args: { input: ChatInput }, context: Context) => {
      const meta = await readAnswerToEnd(context.runtime, requireUserId(context), args.input);
      // The conversation just changed: a second chat in the same operation must not see cached messages.
      context.loaders.messagesByConversationId.clear(meta.conversationId);
      context.loaders.conversationById.clear(meta.conversationId);
      const [conversation, message] = await Promise.all([
        context.db.selectFrom('conversations').selectAll().where('id', '=', meta.conversationId).executeTakeFirstOrThrow(),
        context.db.selectFrom('messages').selectAll().where('id', '=', meta.messageId).executeTakeFirstOrThrow(),
      ]);
      return { conversation: toConversation(conversation), message: toMessage(message) };
    },
  },
  Subscription: chatSubscriptionResolvers,
  Conversation: {
    __resolveReference: async (reference: { id: string }, context: Context) => {
      const row = await ownConversation(context, reference.id);
      return row && toConversation(row);
    },
    messages: async (conversation: { id: string }, _args: unknown, context: Context) => {
      const rows = await context.loaders.messagesByConversationId.load(conversation.id);
      return rows.map(toMessage);
    },
  },
  Message: {
    model: async (message: { modelId: string | null }, _args: unknown, context: Context) => {
      if (!message.modelId) return null;
      const row = await context.loaders.modelById.load(message.modelId);
      return row && toModel(row);
    },
  },
  Model: {
    __resolveReference: async (reference: { id: string }, context: Context) => {
      const row = await context.loaders.modelById.load(reference.id);
      return row && toModel(row);
    },
  },
};
