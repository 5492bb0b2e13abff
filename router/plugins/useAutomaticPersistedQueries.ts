import { createHash } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import type { CacheStore } from '../../lib/cache/cacheStore.ts';
import { ErrorCode, badRequest, persistedQueryError } from '../../lib/errors.ts';

export interface AutomaticPersistedQueriesOptions {
  /** Where registered documents live: Redis shares them between routers, memory keeps them per process. */
  store: CacheStore;
  /** How long a registered document is kept. @default 86400 */
  ttlSeconds?: number;
}

/**
 * Apollo's automatic persisted queries: a client sends `extensions.persistedQuery.sha256Hash`
 * alone (POST, or GET for CDN-friendly URLs); an unknown hash answers 404 PERSISTED_QUERY_NOT_FOUND
 * ("PersistedQueryNotFound", which Apollo clients answer by sending hash and query together); the
 * query is registered under its hash only once it has passed validation (the operation limits
 * that are validation rules included), as Apollo Server does, so the store does not fill with garbage. A hash that does not match its query is
 * refused with PERSISTED_QUERY_HASH_MISMATCH.
 * Own plugin rather than @graphql-yoga/plugin-apq: that one stores before parsing and validating,
 * without a TTL, and its codes and statuses differ from Apollo Router's.
 */
export function useAutomaticPersistedQueries({ store, ttlSeconds = 86_400 }: AutomaticPersistedQueriesOptions): Plugin {
  const toRegister = new WeakMap<Request, { hash: string; query: string }>();
  const keyOf = (hash: string) => `apq:${hash}`;

  return {
    async onParams({ params, setParams, request }) {
      const persisted = params.extensions?.persistedQuery as { version?: unknown; sha256Hash?: unknown } | undefined;
      if (persisted === undefined || persisted === null) return;
      if (persisted.version !== 1 || typeof persisted.sha256Hash !== 'string') {
        throw badRequest('Unsupported persisted query: send extensions.persistedQuery as {"version": 1, "sha256Hash": "<hex>"}.');
      }
      const hash = persisted.sha256Hash.toLowerCase();
      if (!params.query) {
        const query = /^[0-9a-f]{64}$/.test(hash) ? await store.get(keyOf(hash)) : undefined;
        if (query === undefined) throw persistedQueryError(ErrorCode.PERSISTED_QUERY_NOT_FOUND, 404);
        setParams({ ...params, query });
        return;
      }
      if (createHash('sha256').update(params.query).digest('hex') !== hash) {
        throw persistedQueryError(ErrorCode.PERSISTED_QUERY_HASH_MISMATCH, 400);
      }
      toRegister.set(request, { hash, query: params.query });
    },
    onValidate({ context }) {
      const request = (context as { request?: Request }).request;
      const pending = request && toRegister.get(request);
      if (!pending) return;
      return ({ valid }) => {
        if (valid) void store.set(keyOf(pending.hash), pending.query, ttlSeconds);
      };
    },
  };
}
