import { GraphQLError } from 'graphql';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../store/tables.ts';
import type { PromptMessage } from './chatTokens.ts';
import type { ChunkLog } from './chunkLog/chunkLog.ts';
import type { GenerationRow } from './generationLeases.ts';
import type { BackendUsage, InferenceBackend } from './inference/inferenceBackend.ts';
import type { PromptCache } from './promptCache/promptCache.ts';
import { finishGeneration, interruptGeneration } from './settleGeneration.ts';

/** How a generation ended here: finished, failed (its listeners get `error`), stopped (nobody listened, or shutdown), or lost to another replica. */
export type GenerationOutcome = { kind: 'done' } | { kind: 'failed'; error: GraphQLError } | { kind: 'stopped' } | { kind: 'lost' };

export interface GenerationDeps {
  db: Kysely<Database>;
  chunkLog: ChunkLog;
  promptCache: PromptCache;
  promptCacheTtlSeconds: number;
  /** This replica's lease owner id. */
  owner: string;
  now: () => number;
  logger?: Logger;
}

/** Where a generation starts: nothing written yet, or the text of the chunks another attempt wrote. */
export interface GenerationStart {
  text: string;
  nextIndex: number;
  /** Most completion tokens this run may add. */
  maxTokens: number;
}

/**
 * Runs one answer (step 9 on, 10, 11): streams it from `source`, appending every chunk to the shared
 * log as it comes, then stores the message, charges the quota, records usage and fills the prompt
 * cache, and only then appends the last chunk (done, with usage), so a client that sees `done` can
 * read the stored message. A run aborted through `signal` or failing half-way charges what it wrote
 * and frees the answer for chatResume to continue.
 */
export async function runGeneration(deps: GenerationDeps, row: GenerationRow, source: InferenceBackend, start: GenerationStart, signal: AbortSignal): Promise<GenerationOutcome> {
  const messageId = row.message_id;
  let index = start.nextIndex;
  let text = start.text;
  let finish: { finishReason: string; usage?: BackendUsage } | undefined;
  try {
    if (start.maxTokens <= 0) finish = { finishReason: 'length' };
    else {
      const messages = JSON.parse(row.request) as PromptMessage[];
      const model = await deps.db.selectFrom('models').select('context_window').where('id', '=', row.model_id).executeTakeFirst();
      const events = source.stream({
        modelId: row.model_id, contextWindow: model?.context_window ?? 0, messages, maxTokens: start.maxTokens, partial: text || undefined, signal,
      });
      for await (const event of events) {
        if (event.type === 'end') {
          finish = event;
          break;
        }
        if (!event.text) continue;
        // Refused when another replica wrote this index first (it owns the answer now), or when the
        // log lost what was written (Redis restarted empty). Either way this run must not go on;
        // when the answer is still ours, it is settled and freed so a follower can tell which it was.
        if (!(await deps.chunkLog.append(messageId, { index, delta: event.text, done: false }))) {
          await interruptGeneration(deps.db, { messageId, userId: row.user_id }, deps.owner, index, new Date(deps.now()));
          return { kind: 'lost' };
        }
        index += 1;
        text += event.text;
      }
    }
    if (!finish) throw new Error('the inference backend ended without a finish event');
  } catch (error) {
    await interruptGeneration(deps.db, { messageId, userId: row.user_id }, deps.owner, index, new Date(deps.now())).catch((cause) =>
      deps.logger?.error({ err: cause, messageId }, 'could not record an interrupted answer'),
    );
    if (signal.aborted) return { kind: 'stopped' };
    deps.logger?.warn({ err: error, messageId, lastIndex: index - 1 }, 'answer failed half-way');
    return { kind: 'failed', error: withPosition(error, messageId, index - 1) };
  }

  // Backend counts are exact but cover one call only; a continued answer is counted in chunks.
  const counted = start.nextIndex === 0 && finish.usage ? finish.usage : undefined;
  const promptTokens = counted?.promptTokens ?? row.prompt_tokens;
  const completionTokens = counted?.completionTokens ?? index;
  const stored = await finishGeneration(deps.db, { messageId, userId: row.user_id }, deps.owner, { content: text, promptTokens, completionTokens, finishReason: finish.finishReason }, new Date(deps.now()));
  if (!stored) return { kind: 'lost' };
  if (!row.cached && start.nextIndex === 0 && finish.finishReason === 'stop') {
    await deps.promptCache.set(row.cache_key, { content: text, completionTokens }, deps.promptCacheTtlSeconds);
  }
  const usage = { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
  await deps.chunkLog.append(messageId, { index, delta: '', done: true, finishReason: finish.finishReason, usage });
  return { kind: 'done' };
}

/** The error listeners see: a public one keeps its code and learns where the answer stopped; anything else stays masked. */
function withPosition(error: unknown, messageId: string, lastIndex: number): GraphQLError {
  // By name, not instanceof: vitest may load graphql-js twice (CJS and ESM).
  const known = error as { name?: string; message: string; extensions?: Record<string, unknown> } | null;
  if (known?.name === 'GraphQLError' && typeof known.extensions?.code === 'string') {
    return new GraphQLError(known.message, { extensions: { ...known.extensions, messageId, lastIndex } });
  }
  return new GraphQLError('Unexpected error.', { originalError: error instanceof Error ? error : undefined });
}
