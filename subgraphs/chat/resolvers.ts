import type { Selectable } from 'kysely';
import type { ConversationsTable, MessagesTable, ModelsTable } from '../store/tables.ts';
import { requireUserId, type SubgraphContext } from '../subgraphContext.ts';
import type { SubgraphResolvers } from '../subgraphDefinition.ts';
import type { ChatLoaders } from './loaders.ts';
import { recordChatTurn, type ChatInput } from './recordChatTurn.ts';

type Context = SubgraphContext<ChatLoaders>;

function toModel(row: Selectable<ModelsTable>) {
  return { id: row.id, name: row.name, contextWindow: row.context_window, isDefault: row.is_default === 1 };
}

function toConversation(row: Selectable<ConversationsTable>) {
  return { id: row.id, title: row.title, createdAt: row.created_at };
}

function toMessage(row: Selectable<MessagesTable>) {
  return { id: row.id, role: row.role, content: row.content, createdAt: row.created_at, modelId: row.model_id };
}

/** The caller's conversation, or null: another user's conversation looks like a missing one. */
async function ownConversation(context: Context, id: string) {
  const userId = requireUserId(context);
  const row = await context.loaders.conversationById.load(id);
  return row && row.user_id === userId ? row : null;
}

/** Resolvers of the chat subgraph: models, conversations and the chat mutation. */
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
      const turn = await recordChatTurn(context.db, {
        userId: requireUserId(context),
        input: args.input,
        loadModel: (id) => context.loaders.modelById.load(id),
      });
      // The conversation just changed: a second chat in the same operation must not see cached messages.
      context.loaders.messagesByConversationId.clear(turn.conversation.id);
      context.loaders.conversationById.prime(turn.conversation.id, turn.conversation);
      return { conversation: toConversation(turn.conversation), message: toMessage(turn.message) };
    },
  },
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
