import type { Kysely } from 'kysely';
import { inTransaction } from '../store/inTransaction.ts';
import type { Database } from '../store/tables.ts';
import { quotaLane, reserveRemainingTokens, settleTokens } from '../quota/tokenLedger.ts';
import type { GenerationRow } from './generationLeases.ts';

/**
 * Where an answer's bookkeeping changes state, each in one transaction: the stored message, the
 * quota charge and the usage record commit together or not at all (steps 5, 10 and 11); on
 * PostgreSQL they are SERIALIZABLE and run again on a conflict (inTransaction), so two replicas
 * settling one answer, or charging one user's quota, at once cannot both win. Every
 * function first checks that the caller still holds the lease, so a replica that lost an answer to
 * another can never store or charge it twice.
 */

/** Which answer, and whose quota its settlement touches (its inTransaction lane). */
export interface GenerationRef {
  messageId: string;
  userId: string;
}

export interface FinishedAnswer {
  content: string;
  promptTokens: number;
  completionTokens: number;
  finishReason: string;
}

/** Stores the finished answer, charges its tokens, records its usage; false when `owner` no longer holds it. */
export async function finishGeneration(db: Kysely<Database>, generation: GenerationRef, owner: string, answer: FinishedAnswer, now: Date): Promise<boolean> {
  const { messageId } = generation;
  return inTransaction(db, async (trx) => {
    const row = await trx.selectFrom('chat_generations').selectAll().where('message_id', '=', messageId).executeTakeFirst();
    if (!row || row.state === 'done' || row.lease_owner !== owner) return false;
    const total = answer.promptTokens + answer.completionTokens;
    await settleTokens(trx, row.user_id, { release: row.reserved_tokens, charge: total - row.charged_tokens }, now);
    await trx.insertInto('messages').values({
      id: messageId, conversation_id: row.conversation_id, position: row.assistant_position, role: 'ASSISTANT',
      content: answer.content, model_id: row.model_id, created_at: now.toISOString(),
    }).execute();
    await trx.updateTable('chat_generations').set({
      state: 'done', lease_owner: null, lease_expires_at: 0, reserved_tokens: 0, charged_tokens: total,
      prompt_tokens: answer.promptTokens, completion_tokens: answer.completionTokens, finish_reason: answer.finishReason,
    }).where('message_id', '=', messageId).execute();
    await trx.insertInto('chat_usage').values({
      message_id: messageId, user_id: row.user_id, conversation_id: row.conversation_id, model_id: row.model_id,
      prompt_tokens: answer.promptTokens, completion_tokens: answer.completionTokens, cached: row.cached,
      latency_ms: Math.max(0, now.getTime() - row.started_at), finish_reason: answer.finishReason, created_at: now.toISOString(),
    }).execute();
    return true;
  }, { lane: quotaLane(generation.userId) });
}

/**
 * Stops an unfinished answer: charges what was written so far (`completionTokens`, and the prompt
 * with them; nothing when nothing was written), gives back the rest of the reservation, and frees the lease so any replica may continue it later. `owner` null
 * is the sweeper acting for a dead replica, allowed only once the lease has lapsed.
 */
export async function interruptGeneration(db: Kysely<Database>, generation: GenerationRef, owner: string | null, completionTokens: number, now: Date): Promise<boolean> {
  const { messageId } = generation;
  return inTransaction(db, async (trx) => {
    const row = await trx.selectFrom('chat_generations').selectAll().where('message_id', '=', messageId).executeTakeFirst();
    if (!row || row.state !== 'running') return false;
    if (owner !== null ? row.lease_owner !== owner : row.lease_owner !== null && row.lease_expires_at > now.getTime()) return false;
    // Nothing written (the backend refused or failed at once): the user pays nothing for our failure.
    const charged = completionTokens > 0 ? row.prompt_tokens + completionTokens : 0;
    await settleTokens(trx, row.user_id, { release: row.reserved_tokens, charge: charged - row.charged_tokens }, now);
    await trx.updateTable('chat_generations').set({
      state: 'interrupted', lease_owner: null, lease_expires_at: 0, reserved_tokens: 0, charged_tokens: charged, completion_tokens: completionTokens,
    }).where('message_id', '=', messageId).execute();
    return true;
  }, { lane: quotaLane(generation.userId) });
}

/**
 * Readies a taken-over answer to run here: an interrupted one reserves quota again for the rest of
 * it (possibly nothing: it then ends short with "length"); one whose replica died still holds its
 * reservation. Returns how many more completion tokens it may write.
 */
export async function resumeGeneration(db: Kysely<Database>, row: GenerationRow, written: number, now: Date): Promise<number> {
  const wanted = Math.max(0, row.max_tokens - written);
  if (row.state === 'running') return wanted;
  return inTransaction(db, async (trx) => {
    const granted = await reserveRemainingTokens(trx, row.user_id, wanted, now);
    await trx.updateTable('chat_generations').set({ state: 'running', reserved_tokens: granted }).where('message_id', '=', row.message_id).execute();
    return granted;
  }, { lane: quotaLane(row.user_id) });
}
