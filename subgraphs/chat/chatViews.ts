import type { Selectable } from 'kysely';
import type { ConversationsTable, MessagesTable, ModelsTable } from '../store/tables.ts';
import type { AnswerMeta } from './chatRuntime.ts';
import type { StoredChunk } from './chunkLog/chunkLog.ts';

/** Store rows as the chat SDL shows them. */
export function toModel(row: Selectable<ModelsTable>) {
  return { id: row.id, name: row.name, contextWindow: row.context_window, isDefault: row.is_default === 1 };
}

export function toConversation(row: Selectable<ConversationsTable>) {
  return { id: row.id, title: row.title, createdAt: row.created_at };
}

export function toMessage(row: Selectable<MessagesTable>) {
  return { id: row.id, role: row.role, content: row.content, createdAt: row.created_at, modelId: row.model_id };
}

/** A ChatChunk: the logged chunk with what all chunks of its answer share. */
export function toChatChunk(meta: AnswerMeta, chunk: StoredChunk) {
  return {
    conversationId: meta.conversationId,
    messageId: meta.messageId,
    index: chunk.index,
    delta: chunk.delta,
    done: chunk.done,
    finishReason: chunk.finishReason ?? null,
    model: toModel(meta.model),
    cached: meta.cached,
    usage: chunk.usage ?? null,
  };
}
