import type { Kysely } from 'kysely';
import type { Database } from '../store/tables.ts';

/** A user's chat usage, summed over the answers the chat subgraph recorded (step 11). */
export async function chatUsageSummary(db: Kysely<Database>, userId: string) {
  const row = await db
    .selectFrom('chat_usage')
    .select((eb) => [
      eb.fn.countAll<number>().as('messages'),
      eb.fn.coalesce(eb.fn.sum<number>('prompt_tokens'), eb.val(0)).as('promptTokens'),
      eb.fn.coalesce(eb.fn.sum<number>('completion_tokens'), eb.val(0)).as('completionTokens'),
      eb.fn.coalesce(eb.fn.sum<number>('cached'), eb.val(0)).as('cachedAnswers'),
      eb.fn.avg<number | null>('latency_ms').as('averageLatencyMs'),
    ])
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return {
    messages: Number(row.messages),
    promptTokens: Number(row.promptTokens),
    completionTokens: Number(row.completionTokens),
    cachedAnswers: Number(row.cachedAnswers),
    averageLatencyMs: row.averageLatencyMs == null ? null : Math.round(Number(row.averageLatencyMs)),
  };
}
