import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { badUserInput, notFound } from '../../lib/errors.ts';
import type { ConversationsTable, Database, MessagesTable, ModelsTable } from '../store/tables.ts';
import { firstWords, generateReply } from './generateReply.ts';

export interface ChatInput {
  conversationId?: string | null;
  prompt: string;
  model?: string | null;
}

// The prompt's length limit is in the SDL description, enforced before any resolver (stringArgumentLimits).

export interface ChatTurn {
  conversation: Selectable<ConversationsTable>;
  message: Selectable<MessagesTable>;
}

/** Picks the requested model (BAD_USER_INPUT when unknown) or the default one. */
async function chooseModel(
  db: Kysely<Database>,
  loadModel: (id: string) => Promise<Selectable<ModelsTable> | null>,
  requested: string | null | undefined,
): Promise<Selectable<ModelsTable>> {
  if (requested != null) {
    const model = await loadModel(requested);
    if (!model) throw badUserInput(`Unknown model "${requested}": query "models" for the available ids.`, { argument: 'input.model' });
    return model;
  }
  return db.selectFrom('models').selectAll().where('is_default', '=', 1).executeTakeFirstOrThrow();
}

/**
 * One chat turn: answers the prompt and stores the user's message and the reply, in a new
 * conversation when none is given. Another user's conversation is NOT_FOUND, like a missing one.
 */
export async function recordChatTurn(
  db: Kysely<Database>,
  options: {
    userId: string;
    input: ChatInput;
    loadModel: (id: string) => Promise<Selectable<ModelsTable> | null>;
    now?: Date;
  },
): Promise<ChatTurn> {
  const { userId, input, now = new Date() } = options;
  const prompt = input.prompt.trim();
  if (!prompt) throw badUserInput('"prompt" must not be empty.', { argument: 'input.prompt' });
  const model = await chooseModel(db, options.loadModel, input.model);
  // Inference happens before the transaction: a real model is slow and must not hold the write lock.
  const reply = generateReply({ prompt, modelId: model.id, contextWindow: model.context_window });
  const createdAt = now.toISOString();

  return db.transaction().execute(async (trx) => {
    let conversation: Selectable<ConversationsTable> | undefined;
    if (input.conversationId != null) {
      conversation = await trx.selectFrom('conversations').selectAll().where('id', '=', input.conversationId).executeTakeFirst();
      if (!conversation || conversation.user_id !== userId) throw notFound(`Conversation "${input.conversationId}" not found.`);
    } else {
      conversation = { id: `conv_${randomUUID()}`, user_id: userId, title: firstWords(prompt, 6), created_at: createdAt };
      await trx.insertInto('conversations').values(conversation).execute();
    }
    const last = await trx
      .selectFrom('messages')
      .select((eb) => eb.fn.max('position').as('position'))
      .where('conversation_id', '=', conversation.id)
      .executeTakeFirst();
    const position = last?.position == null ? 0 : Number(last.position) + 1;
    const userMessage: Selectable<MessagesTable> = {
      id: `msg_${randomUUID()}`, conversation_id: conversation.id, position, role: 'USER', content: prompt, model_id: null, created_at: createdAt,
    };
    const assistantMessage: Selectable<MessagesTable> = {
      id: `msg_${randomUUID()}`, conversation_id: conversation.id, position: position + 1, role: 'ASSISTANT',
      content: reply, model_id: model.id, created_at: createdAt,
    };
    await trx.insertInto('messages').values([userMessage, assistantMessage]).execute();
    return { conversation, message: assistantMessage };
  });
}
