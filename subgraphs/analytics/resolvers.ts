import { sql, type Selectable } from 'kysely';
import type { ArticleStatsTable } from '../store/tables.ts';
import { pageSize } from '../pagination.ts';
import { requireUserId, type SubgraphContext } from '../subgraphContext.ts';
import type { SubgraphResolvers } from '../subgraphDefinition.ts';
import { chatUsageSummary } from './chatUsageSummary.ts';
import type { AnalyticsLoaders } from './loaders.ts';

type Context = SubgraphContext<AnalyticsLoaders>;

const METRIC_COLUMN = { VIEWS: 'views', SALES: 'sales' } as const;

function toArticleStats(row: Selectable<ArticleStatsTable>) {
  return { id: row.article_id, views: row.views, sales: row.sales };
}

/** Resolvers of the analytics subgraph: views and sales of articles, the caller's chat usage. */
export const analyticsResolvers: SubgraphResolvers<Context> = {
  Query: {
    topArticles: async (_source: unknown, args: { first?: number | null; by?: 'VIEWS' | 'SALES' | null }, context: Context) => {
      const first = pageSize(args.first, 5);
      const column = METRIC_COLUMN[args.by ?? 'VIEWS'];
      const rows = await context.db
        .selectFrom('article_stats')
        .selectAll()
        .orderBy(column, 'desc')
        // Ties break in natural id order so the ranking is stable between calls and replicas.
        .orderBy(sql`length(article_id)`)
        .orderBy('article_id')
        .limit(first)
        .execute();
      for (const row of rows) context.loaders.statsByArticleId.prime(row.article_id, row);
      return rows.map(toArticleStats);
    },
    myChatUsage: (_source: unknown, _args: unknown, context: Context) => chatUsageSummary(context.db, requireUserId(context)),
  },
  Article: {
    // No stats row means nothing is known: views/sales are null (they are nullable for that reason),
    // never an invented 0.
    __resolveReference: async (reference: { id: string }, context: Context) => {
      const row = await context.loaders.statsByArticleId.load(reference.id);
      return row ? toArticleStats(row) : { id: reference.id, views: null, sales: null };
    },
  },
};
