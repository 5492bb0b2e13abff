import type { Kysely } from 'kysely';
import { PRINCIPAL_HEADER, verifyPrincipal, type Principal } from '../lib/principal.ts';
import type { Database } from './store/tables.ts';
import { unauthenticated } from '../lib/errors.ts';

/** What every resolver receives: who asks, the store, and this request's DataLoaders. */
export interface SubgraphContext<TLoaders = unknown> {
  /**
   * The router-signed principal (anonymous: no userId). Absent only for the unsigned requests the
   * server lets through (`_service { sdl }`); every other unsigned request is refused before this.
   */
  principal?: Principal;
  db: Kysely<Database>;
  loaders: TLoaders;
}

/** Builds the per-request context from the signed principal header. */
export function createSubgraphContext<TLoaders>(
  request: Request,
  options: { db: Kysely<Database>; internalSecrets: readonly string[]; createLoaders: (db: Kysely<Database>) => TLoaders },
): SubgraphContext<TLoaders> {
  const principal = verifyPrincipal(request.headers.get(PRINCIPAL_HEADER), options.internalSecrets);
  return { principal, db: options.db, loaders: options.createLoaders(options.db) };
}

/** The caller's user id, or UNAUTHENTICATED for anonymous callers. */
export function requireUserId(context: SubgraphContext): string {
  const userId = context.principal?.userId;
  if (!userId) throw unauthenticated();
  return userId;
}
