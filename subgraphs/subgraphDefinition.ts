import type { GraphQLResolveInfo } from 'graphql';
import type { Kysely } from 'kysely';
import type { Database } from './store/tables.ts';
import type { SubgraphContext } from './subgraphContext.ts';

/**
 * A resolver map as buildSubgraphSchema takes it. `__resolveReference(reference, context, info)` fits
 * because its second parameter lines up with `args: any`.
 */
type AnyResolver<TContext> = (source: any, args: any, context: TContext, info: GraphQLResolveInfo) => unknown;
export type SubgraphResolvers<TContext> = Record<string, Record<string, AnyResolver<TContext>>>;

/** Everything that makes one subgraph: its SDL, resolvers, per-request loaders and start-up work. */
export interface SubgraphDefinition<TLoaders> {
  /** SDL file under schema/, resolved from this module so the working directory does not matter. */
  typeDefs: URL;
  resolvers: SubgraphResolvers<SubgraphContext<TLoaders>>;
  createLoaders(db: Kysely<Database>): TLoaders;
  /** Runs once before the server accepts requests (e.g. registering the demo API key). */
  onStart?(options: { db: Kysely<Database>; demoApiKey?: string; demoFreeApiKey?: string }): Promise<void>;
}
