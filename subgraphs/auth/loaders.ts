import type { Kysely } from 'kysely';
import type { Database } from '../store/tables.ts';
import { groupedLoader } from '../groupedLoader.ts';
import { keyedLoader } from '../keyedLoader.ts';

/** Per-request DataLoaders of the auth subgraph. */
export function createAuthLoaders(db: Kysely<Database>) {
  return {
    apiKeyByHash: keyedLoader(
      (hashes: readonly string[]) => db.selectFrom('api_keys').selectAll().where('key_hash', 'in', hashes).execute(),
      (row) => row.key_hash,
    ),
    apiKeysByUserId: groupedLoader(
      (userIds: readonly string[]) =>
        db.selectFrom('api_keys').selectAll().where('user_id', 'in', userIds).orderBy('created_at').orderBy('id').execute(),
      (row) => row.user_id,
    ),
  };
}

export type AuthLoaders = ReturnType<typeof createAuthLoaders>;
