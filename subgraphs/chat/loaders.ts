import type { Kysely } from 'kysely';
import type { Database } from '../store/tables.ts';
import { groupedLoader } from '../groupedLoader.ts';
import { keyedLoader } from '../keyedLoader.ts';

/** Per-request DataLoaders of the chat subgraph. */
export function createChatLoaders(db: Kysely<Database>) {
  return {
    modelById: keyedLoader(
      (ids: readonly string[]) => db.selectFrom('models').selectAll().where('id', 'in', ids).execute(),
      (row) => row.id,
    ),
    conversationById: keyedLoader(
      (ids: readonly string[]) => db.selectFrom('conversations').selectAll().where('id', 'in', ids).execute(),
      (row) => row.id,
    ),
    messagesByConversationId: groupedLoader(
      (ids: readonly string[]) =>
        db.selectFrom('messages').selectAll().where('conversation_id', 'in', ids).orderBy('conversation_id').orderBy('position').execute(),
      (row) => row.conversation_id,
    ),
  };
}

export type ChatLoaders = ReturnType<typeof createChatLoaders>;
