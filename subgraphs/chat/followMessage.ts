import { answerInterrupted } from '../../lib/errors.ts';
import type { ChunkLog, StoredChunk } from './chunkLog/chunkLog.ts';
import type { GenerationLeases, GenerationRow } from './generationLeases.ts';
import type { RunningGeneration, RunningGenerations } from './runningGenerations.ts';

export interface FollowDeps {
  chunkLog: ChunkLog;
  leases: GenerationLeases;
  generations: RunningGenerations;
  /** How long to wait for an append before looking again, ms. */
  pollMs: number;
  /** Continues an answer nobody runs, here; undefined when another replica got it first. Throws STREAM_INTERRUPTED when its chunks are lost. */
  takeOver(messageId: string, seen: number): Promise<RunningGeneration | undefined>;
  /** Tells the answer's generator elsewhere that someone here follows it; returns the way to stop. */
  watch(messageId: string): () => void;
  /** The stored text of a finished answer. */
  storedAnswer(messageId: string): Promise<string | undefined>;
}

/**
 * The chunks of an answer after index `after`: replayed from the shared log, then followed live
 * until the chunk marked done, each index exactly once and in order. When the answer is not being
 * written anywhere (its replica died, or everyone stopped listening), this follower continues it
 * here. Ends with STREAM_INTERRUPTED when the log lost chunks that were already written.
 * `attached` is a generation this caller already listens to (a new turn started here).
 */
export async function* followMessage(
  deps: FollowDeps,
  messageId: string,
  after: number,
  signal: AbortSignal,
  attached?: RunningGeneration,
): AsyncGenerator<StoredChunk> {
  let next = after + 1;
  let local = attached ?? deps.generations.attach(messageId);
  let unwatch: (() => void) | undefined;
  const wait = () => deps.chunkLog.waitForAppend(messageId, deps.pollMs, signal, !local);
  let replayed = false;
  try {
    while (!signal.aborted) {
      // Past the replay, an answer written here is followed in memory: when we have everything it
      // appended, its next chunk wakes us, with no need to ask the log once per token. (Checked and
      // waited for in the same tick, so an append cannot slip in between.)
      if (replayed && local && !local.outcome && (deps.chunkLog.localTop(messageId) ?? -1) < next) {
        await wait();
        continue;
      }
      const settledBeforeRead = local?.outcome !== undefined;
      const chunks = await deps.chunkLog.read(messageId, next - 1);
      replayed = true;
      for (const chunk of chunks) {
        if (chunk.index !== next) throw answerInterrupted(messageId, next - 1);
        yield chunk;
        next += 1;
        if (chunk.done) return;
      }
      if (chunks.length) continue;

      if (local) {
        if (!local.outcome) {
          await wait();
          continue;
        }
        // The outcome is set after the generation's last append; a read that began before the outcome
        // (a slow store's round trip) may have missed that append, so it reads once more first.
        if (!settledBeforeRead) continue;
        const outcome = local.outcome;
        deps.generations.detach(local);
        local = undefined;
        if (outcome.kind === 'failed') throw outcome.error;
        // done: its last chunk is in the log now; stopped or lost: see below who writes it now.
        continue;
      }

      const row = await deps.leases.load(messageId);
      if (!row) throw answerInterrupted(messageId, next - 1);
      if (row.state === 'done') {
        // Asked for what comes after the last chunk: there is nothing more.
        if ((await ensureLoggedEnd(deps, row, next)) < next) return;
        continue;
      }
      if (deps.leases.isAlive(row)) {
        unwatch ??= deps.watch(messageId);
        await wait();
        continue;
      }
      local = await deps.takeOver(messageId, next);
      if (!local) await wait();
    }
  } finally {
    if (local) deps.generations.detach(local);
    unwatch?.();
  }
}

/**
 * The index of a finished answer's last chunk. When that chunk is missing (its replica stopped
 * between storing the answer and logging the end), it is appended if the logged chunks are exactly
 * the stored text, since then nothing was lost; otherwise the stream cannot be rebuilt.
 */
async function ensureLoggedEnd(deps: FollowDeps, row: GenerationRow, seen: number): Promise<number> {
  const chunks = await deps.chunkLog.readStored(row.message_id, -1, Number.MAX_SAFE_INTEGER);
  if (chunks.at(-1)?.done) return chunks.length - 1;
  const text = chunks.map((c) => c.delta).join('');
  const complete = chunks.every((c, i) => c.index === i) && chunks.length >= seen && text === (await deps.storedAnswer(row.message_id));
  if (!complete) throw answerInterrupted(row.message_id, seen - 1);
  const usage = { promptTokens: row.prompt_tokens, completionTokens: row.completion_tokens, totalTokens: row.prompt_tokens + row.completion_tokens };
  await deps.chunkLog.append(row.message_id, { index: chunks.length, delta: '', done: true, finishReason: row.finish_reason, usage });
  return chunks.length;
}
