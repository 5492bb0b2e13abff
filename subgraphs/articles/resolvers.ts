import type { Selectable } from 'kysely';
import type { ArticlesTable } from '../store/tables.ts';
import { decodeCursor, encodeCursor, pageSize, unknownCursor } from '../pagination.ts';
import type { SubgraphContext } from '../subgraphContext.ts';
import type { SubgraphResolvers } from '../subgraphDefinition.ts';
import { countArticles, listArticles } from './listArticles.ts';
import type { ArticlesLoaders } from './loaders.ts';

type Context = SubgraphContext<ArticlesLoaders>;

function toArticle(row: Selectable<ArticlesTable>) {
  return { id: row.id, title: row.title, price: row.price, stock: row.stock, tags: JSON.parse(row.tags) as string[] };
}

interface ArticlesArgs {
  first?: number | null;
  after?: string | null;
  tag?: string | null;
}

/** Resolvers of the articles subgraph: the public catalog. */
export const articlesResolvers: SubgraphResolvers<Context> = {
  Query: {
    articles: async (_source: unknown, args: ArticlesArgs, context: Context) => {
      const first = pageSize(args.first);
      const tag = args.tag == null ? undefined : args.tag.trim().toLowerCase();
      let afterId: string | undefined;
      if (args.after != null) {
        afterId = decodeCursor('article', args.after);
        if (!(await context.loaders.articleById.load(afterId))) unknownCursor();
      }
      // One row more than asked tells whether another page exists without a second query.
      const rows = await listArticles(context.db, { limit: first + 1, afterId, tag });
      const page = rows.slice(0, first);
      for (const row of page) context.loaders.articleById.prime(row.id, row);
      const edges = page.map((row) => ({ cursor: encodeCursor('article', row.id), node: toArticle(row) }));
      return {
        edges,
        pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null },
        // A function, so the count query runs only when totalCount is selected.
        totalCount: () => countArticles(context.db, tag),
      };
    },
    article: async (_source: unknown, args: { id: string }, context: Context) => {
      const row = await context.loaders.articleById.load(args.id);
      return row && toArticle(row);
    },
  },
  Article: {
    __resolveReference: async (reference: { id: string }, context: Context) => {
      const row = await context.loaders.articleById.load(reference.id);
      return row && toArticle(row);
    },
  },
};
