import type { Kysely } from 'kysely';
import type { Principal } from '../lib/principal.ts';
import { requestPrincipal } from '../lib/server/requestPrincipal.ts';
import type { ServerExchange } from '../lib/server/serverExchange.ts';
import type { Database } from './store/tables.ts';
import { unauthenticated } from '../lib/errors.ts';

/** What every resolver receives: who asks, the store, and this request's DataLoaders. */
export interface SubgraphContext<TLoaders = unknown, TRuntime = unknown> {
  /**
   * The router-signed principal (anonymous: no userId). Absent only for the unsigned requests the
   * server lets through (`_service { sdl }`); every other unsigned request is refused before this.
   */
  principal?: Principal;
  db: Kysely<Database>;
  loaders: TLoaders;
  /** The subgraph's long-lived parts (see SubgraphDefinition.createRuntime); undefined for most subgraphs. */
  runtime: TRuntime;
  /** A subscription resumes after this event: the `Last-Event-ID` the gateway sends when it re-opens a stream. */
  lastEventId?: string;
  /** Set by a subscription resolver for the event it is resolving; the server sends it as the event's id (streamEventIds.ts). */
  streamEventId?: string;
}

/** Builds the per-request context from the signed principal header. */
export function createSubgraphContext<TLoaders, TRuntime>(
  exchange: ServerExchange,
  options: { db: Kysely<Database>; internalSecrets: readonly string[]; createLoaders: (db: Kysely<Database>) => TLoaders; runtime: TRuntime },
): SubgraphContext<TLoaders, TRuntime> {
  const principal = requestPrincipal(exchange, options.internalSecrets);
  const lastEventId = exchange.header('last-event-id');
  return { principal, db: options.db, loaders: options.createLoaders(options.db), runtime: options.runtime, lastEventId };
}

/** The caller's user id, or UNAUTHENTICATED for anonymous callers. */
export function requireUserId(context: SubgraphContext<unknown, unknown>): string {
  const userId = context.principal?.userId;
  if (!userId) throw unauthenticated();
  return userId;
}
