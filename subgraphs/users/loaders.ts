import type { Kysely } from 'kysely';
import type { Database } from '../store/tables.ts';
import { keyedLoader } from '../keyedLoader.ts';

/** Per-request DataLoaders of the users subgraph. */
export function createUsersLoaders(db: Kysely<Database>) {
  return {
    userById: keyedLoader((ids: readonly string[]) => db.selectFrom('users').selectAll().where('id', 'in', ids).execute(), (row) => row.id),
  };
}

export type UsersLoaders = ReturnType<typeof createUsersLoaders>;
