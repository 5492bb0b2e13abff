import type { Kysely } from 'kysely';
import type { Database } from '../store/tables.ts';
import { keyedLoader } from '../keyedLoader.ts';

/** Per-request DataLoaders of the analytics subgraph. */
export function createAnalyticsLoaders(db: Kysely<Database>) {
  return {
    statsByArticleId: keyedLoader(
      (ids: readonly string[]) => db.selectFrom('article_stats').selectAll().where('article_id', 'in', ids).execute(),
      (row) => row.article_id,
    ),
  };
}

export type AnalyticsLoaders = ReturnType<typeof createAnalyticsLoaders>;
