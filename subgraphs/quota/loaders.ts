import type { Kysely } from 'kysely';
import type { Database } from '../store/tables.ts';
import { keyedLoader } from '../keyedLoader.ts';

/** Per-request DataLoaders of the quota subgraph. */
export function createQuotaLoaders(db: Kysely<Database>) {
  return {
    quotaByUserId: keyedLoader(
      (userIds: readonly string[]) => db.selectFrom('quotas').selectAll().where('user_id', 'in', userIds).execute(),
      (row) => row.user_id,
    ),
  };
}

export type QuotaLoaders = ReturnType<typeof createQuotaLoaders>;
