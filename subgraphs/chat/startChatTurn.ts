import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { badUserInput, notFound } from '../../lib/errors.ts';
import { inTransaction } from '../store/inTransaction.ts';
import type { ChatGenerationsTable, ConversationsTable, Database, ModelsTable } from '../store/tables.ts';
import { quotaLane, reserveTokens } from '../quota/tokenLedger.ts';
import { countPromptTokens, type PromptMessage } from './chatTokens.ts';
import { fitContext } from './conversationContext.ts';
import { firstWords } from './generateReply.ts';
import type { GenerationRow } from './generationLeases.ts';
import { chooseModel } from './modelRegistry.ts';
import { promptCacheKey, type CachedAnswer, type PromptCache } from './promptCache/promptCache.ts';

export interface ChatInput {
  conversationId?: string | null;
  prompt: string;
  model?: string | null;
  /** Same user and key, same turn: a repeat starts nothing and follows the first one's answer. */
  idempotencyKey?: string | null;
}

export type StartedTurn =
  | {
      row: GenerationRow;
      model: Selectable<ModelsTable>;
      /** Set when the answer comes from the prompt cache. */
      cachedAnswer?: CachedAnswer;
    }
  /** The key was used before: this is the answer its first request started. */
  | { existingMessageId: string };


/**
 * Everything of a chat turn before the first token (steps 5 to 8): checks the prompt, loads the
 * conversation (another user's is NOT_FOUND, like a missing one), chooses the model, fits the
 * context, looks the request up in the prompt cache, then in one transaction reserves the tokens
 * (QUOTA_EXCEEDED when too few remain), stores the user's message and creates the generation row
 * whose lease this replica holds. With an idempotency key the turn is started once per user and
 * key: a repeat (a gateway sending the opening to a twin after the first replica died holding it, a
 * client retrying) is told the first one's answer, which it then follows, and pays nothing.
 */
export async function startChatTurn(
  deps: { db: Kysely<Database>; promptCache: PromptCache; owner: string; leaseMs: number; now: () => number },
  userId: string,
  input: ChatInput,
): Promise<StartedTurn> {
  const { db } = deps;
  const prompt = input.prompt.trim();
  if (!prompt) throw badUserInput('"prompt" must not be empty.', { argument: 'input.prompt' });
  // Its length is the SDL's to bound ("At most 8000 characters", enforced before any resolver runs).
  const key = input.idempotencyKey?.trim() || undefined;
  const earlier = key ? await turnOfKey(db, userId, key) : undefined;
  if (earlier) return { existingMessageId: earlier };

  const user = await db.selectFrom('users').select('plan').where('id', '=', userId).executeTakeFirst();
  let history: PromptMessage[] = [];
  if (input.conversationId != null) {
    const conversation = await db.selectFrom('conversations').selectAll().where('id', '=', input.conversationId).executeTakeFirst();
    if (!conversation || conversation.user_id !== userId) throw notFound(`Conversation "${input.conversationId}" not found.`);
    const rows = await db.selectFrom('messages').select(['role', 'content']).where('conversation_id', '=', conversation.id).orderBy('position').execute();
    history = rows.map((m) => ({ role: m.role.toLowerCase() as PromptMessage['role'], content: m.content }));
  }
  const catalog = await db.selectFrom('models').selectAll().execute();
  const model = chooseModel(catalog, {
    requested: input.model,
    plan: user?.plan ?? 'FREE',
    neededTokens: countPromptTokens([...history, { role: 'user', content: prompt }]),
  });
  const { messages, promptTokens } = fitContext(history, prompt, { contextWindow: model.row.context_window, reserveForAnswer: model.terms.maxOutputTokens });
  const cacheKey = promptCacheKey(model.row.id, messages);
  const cached = await deps.promptCache.get(cacheKey);
  const startedAt = deps.now();
  const now = new Date(startedAt);

  // Runs again from here when a concurrent turn of the same user won (PostgreSQL), so it only decides
  // inside; this process's turns of one user take turns (the quota lane), other replicas' may conflict.
  const started = await inTransaction(db, async (trx) => {
    // Again inside: the lane ran the other request with this key first, and its commit is visible now.
    const taken = key ? await turnOfKey(trx, userId, key) : undefined;
    if (taken) return { existingMessageId: taken };
    const wanted = promptTokens + (cached?.completionTokens ?? model.terms.maxOutputTokens);
    const { granted } = await reserveTokens(trx, userId, { min: promptTokens + 1, max: wanted }, now);
    // A cached answer is served whole or not at all; with too little quota left the model writes a shorter one.
    const cachedAnswer = cached && granted >= wanted ? cached : undefined;
    const conversationId = await ensureConversation(trx, userId, input.conversationId, prompt, now);
    const position = await nextPosition(trx, conversationId);
    await trx.insertInto('messages').values({
      id: `msg_${randomUUID()}`, conversation_id: conversationId, position, role: 'USER', content: prompt, model_id: null, created_at: now.toISOString(),
    }).execute();
    const generation: Selectable<ChatGenerationsTable> = {
      message_id: `msg_${randomUUID()}`, conversation_id: conversationId, user_id: userId, model_id: model.row.id,
      assistant_position: position + 1, request: JSON.stringify(messages), cache_key: cacheKey, cached: cachedAnswer ? 1 : 0,
      prompt_tokens: promptTokens, max_tokens: granted - promptTokens, state: 'running', lease_owner: deps.owner,
      lease_expires_at: startedAt + deps.leaseMs, watched_until: 0, reserved_tokens: granted, charged_tokens: 0,
      completion_tokens: 0, finish_reason: null, started_at: startedAt,
    };
    await trx.insertInto('chat_generations').values(generation).execute();
    // The primary key (user, key) admits one turn per key whatever the engine's isolation.
    if (key) await trx.insertInto('chat_turn_keys').values({ user_id: userId, idempotency_key: key, message_id: generation.message_id }).execute();
    return { row: generation, cachedAnswer };
  }, { lane: quotaLane(userId) });
  if (started.existingMessageId !== undefined) return { existingMessageId: started.existingMessageId };
  return { row: started.row, model: model.row, cachedAnswer: started.cachedAnswer };
}

/** The answer a user's earlier turn with this key started, if any. */
async function turnOfKey(db: Kysely<Database>, userId: string, key: string): Promise<string | undefined> {
  const row = await db.selectFrom('chat_turn_keys').select('message_id').where('user_id', '=', userId).where('idempotency_key', '=', key).executeTakeFirst();
  return row?.message_id;
}

/** The conversation to add the turn to, created (titled after the prompt) when none is given. */
async function ensureConversation(trx: Kysely<Database>, userId: string, id: string | null | undefined, prompt: string, now: Date): Promise<string> {
  if (id != null) {
    const owner = await trx.selectFrom('conversations').select('user_id').where('id', '=', id).executeTakeFirst();
    if (owner?.user_id !== userId) throw notFound(`Conversation "${id}" not found.`);
    return id;
  }
  const conversation: Selectable<ConversationsTable> = { id: `conv_${randomUUID()}`, user_id: userId, title: firstWords(prompt, 6), created_at: now.toISOString() };
  await trx.insertInto('conversations').values(conversation).execute();
  return conversation.id;
}

/** Next free position: answers still being written hold theirs, so two turns at once never collide. */
async function nextPosition(trx: Kysely<Database>, conversationId: string): Promise<number> {
  const stored = await trx.selectFrom('messages').select((eb) => eb.fn.max('position').as('top')).where('conversation_id', '=', conversationId).executeTakeFirst();
  const pending = await trx
    .selectFrom('chat_generations')
    .select((eb) => eb.fn.max('assistant_position').as('top'))
    .where('conversation_id', '=', conversationId)
    .executeTakeFirst();
  const top = Math.max(stored?.top == null ? -1 : Number(stored.top), pending?.top == null ? -1 : Number(pending.top));
  return top + 1;
}
