import type { GraphQLResolveInfo } from 'graphql';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '../lib/config.ts';
import type { Database } from './store/tables.ts';
import type { SubgraphContext } from './subgraphContext.ts';

/**
 * A resolver map as buildSubgraphSchema takes it. `__resolveReference(reference, context, info)` fits
 * because its second parameter lines up with `args: any`.
 */
type AnyResolver<TContext> = (source: any, args: any, context: TContext, info: GraphQLResolveInfo) => unknown;
/** A Subscription field: `subscribe` returns the event stream, `resolve` maps each event to the field's value. */
type SubscriptionResolver<TContext> = { subscribe: AnyResolver<TContext>; resolve?: AnyResolver<TContext> };
export type SubgraphResolvers<TContext> = Record<string, Record<string, AnyResolver<TContext> | SubscriptionResolver<TContext>>>;

/** Long-lived parts of a subgraph (connections, work that outlives a request), closed with its server. */
export interface SubgraphRuntime {
  /** Idempotent. */
  close(): Promise<void>;
}

/** Everything that makes one subgraph: its SDL, resolvers, per-request loaders and start-up work. */
export interface SubgraphDefinition<TLoaders, TRuntime extends SubgraphRuntime | undefined = SubgraphRuntime | undefined> {
  /** SDL file under schema/, resolved from this module so the working directory does not matter. */
  typeDefs: URL;
  resolvers: SubgraphResolvers<SubgraphContext<TLoaders, TRuntime>>;
  createLoaders(db: Kysely<Database>): TLoaders;
  /** Runs once before the server accepts requests (e.g. registering the demo API key). */
  onStart?(options: { db: Kysely<Database>; demoApiKey?: string; demoFreeApiKey?: string }): Promise<void>;
  /** Creates the subgraph's runtime once per server; resolvers find it as `context.runtime`. */
  createRuntime?(options: { db: Kysely<Database>; config: Config; logger: Logger }): TRuntime;
}
