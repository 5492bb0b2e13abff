import { sql, type Kysely, type Selectable } from 'kysely';
import type { ArticlesTable, Database } from '../store/tables.ts';

/** `length(id), id` sorts a2 before a10 (natural id order) in SQLite and PostgreSQL alike. */
const idLength = sql<number>`length(id)`;

/** LIKE pattern matching one tag inside the JSON tag list; wildcards in the tag are escaped. */
function tagPattern(tag: string): string {
  return `%${JSON.stringify(tag).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export interface ListArticlesOptions {
  /** Rows to return. */
  limit: number;
  /** Only articles after this id (keyset pagination). */
  afterId?: string;
  /** Only articles carrying this tag (lower case). */
  tag?: string;
}

/** One page of the catalog in natural id order. */
export function listArticles(db: Kysely<Database>, options: ListArticlesOptions): Promise<Selectable<ArticlesTable>[]> {
  const { limit, afterId, tag } = options;
  let query = db.selectFrom('articles').selectAll();
  if (tag !== undefined) query = query.where(sql<boolean>`tags like ${tagPattern(tag)} escape '\\'`);
  if (afterId !== undefined) {
    query = query.where((eb) =>
      eb.or([eb(idLength, '>', afterId.length), eb.and([eb(idLength, '=', afterId.length), eb('id', '>', afterId)])]),
    );
  }
  return query.orderBy(idLength).orderBy('id').limit(limit).execute();
}

/** How many articles match the filter (the connection's totalCount). */
export async function countArticles(db: Kysely<Database>, tag?: string): Promise<number> {
  let query = db.selectFrom('articles').select((eb) => eb.fn.countAll<number>().as('count'));
  if (tag !== undefined) query = query.where(sql<boolean>`tags like ${tagPattern(tag)} escape '\\'`);
  const row = await query.executeTakeFirstOrThrow();
  return Number(row.count);
}
