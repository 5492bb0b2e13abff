import type { Kysely } from 'kysely';
import type { Database } from '../store/tables.ts';
import { keyedLoader } from '../keyedLoader.ts';

/** Per-request DataLoaders of the articles subgraph. */
export function createArticlesLoaders(db: Kysely<Database>) {
  return {
    articleById: keyedLoader(
      (ids: readonly string[]) => db.selectFrom('articles').selectAll().where('id', 'in', ids).execute(),
      (row) => row.id,
    ),
  };
}

export type ArticlesLoaders = ReturnType<typeof createArticlesLoaders>;
