import { createHash } from 'node:crypto';
import type { CacheStore } from '../../lib/cache/cacheStore.ts';
import { ErrorCode, badRequest, persistedQueryError } from '../../lib/errors.ts';
import { refusedWith } from '../../lib/server/graphqlEndpoint.ts';
import type { EdgeRequest, EdgeStage } from './edgeRequest.ts';

export interface AutomaticPersistedQueriesOptions {
  /** Where registered documents live: Redis shares them between routers, memory keeps them per process. */
  store: CacheStore;
  /** How long a registered document is kept. @default 86400 */
  ttlSeconds?: number;
}

/**
 * Apollo's automatic persisted queries, in two stages: `lookup` turns a client's
 * `extensions.persistedQuery.sha256Hash` sent alone (POST, or GET for CDN-friendly URLs) into its
 * query, or answers 404 PERSISTED_QUERY_NOT_FOUND ("PersistedQueryNotFound", which Apollo clients
 * answer by sending hash and query together), and refuses a hash that does not match its query
 * (PERSISTED_QUERY_HASH_MISMATCH); `register`, placed after validation (the operation limits that are
 * validation rules included), stores a new query under its hash, as Apollo Server does, so the
 * store does not fill with garbage. Own stages rather than @graphql-yoga/plugin-apq: that one stores
 * before validating, without a TTL, and its codes and statuses differ from Apollo Router's.
 */
export function createPersistedQueryStages({ store, ttlSeconds = 86_400 }: AutomaticPersistedQueriesOptions): { lookup: EdgeStage; register: EdgeStage } {
  const toRegister = new WeakMap<EdgeRequest, { hash: string; query: string }>();
  const keyOf = (hash: string) => `apq:${hash}`;
  return {
    async lookup(request) {
      const { params } = request;
      const persisted = params.extensions?.persistedQuery as { version?: unknown; sha256Hash?: unknown } | undefined;
      if (persisted === undefined || persisted === null) return undefined;
      if (persisted.version !== 1 || typeof persisted.sha256Hash !== 'string') {
        return refusedWith(badRequest('Unsupported persisted query: send extensions.persistedQuery as {"version": 1, "sha256Hash": "<hex>"}.'));
      }
      const hash = persisted.sha256Hash.toLowerCase();
      if (!params.query) {
        const query = /^[0-9a-f]{64}$/.test(hash) ? await store.get(keyOf(hash)) : undefined;
        if (query === undefined) return refusedWith(persistedQueryError(ErrorCode.PERSISTED_QUERY_NOT_FOUND, 404));
        request.params = { ...params, query };
        return undefined;
      }
      if (createHash('sha256').update(params.query).digest('hex') !== hash) return refusedWith(persistedQueryError(ErrorCode.PERSISTED_QUERY_HASH_MISMATCH, 400));
      toRegister.set(request, { hash, query: params.query });
      return undefined;
    },
    register(request) {
      const pending = toRegister.get(request);
      if (pending) void store.set(keyOf(pending.hash), pending.query, ttlSeconds);
      return undefined;
    },
  };
}
