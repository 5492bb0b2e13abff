import { createHash } from 'node:crypto';
import type { ExecutionResult } from 'graphql';
import type { CacheStore } from '../../lib/cache/cacheStore.ts';
import { analyseOperation, rootFieldsOf } from '../operationAnalysis.ts';
import type { RoutingTable } from '../routingTable.ts';
import type { EdgeStage } from './edgeRequest.ts';

export interface ResponseCacheOptions {
  store: CacheStore;
  /** The public schema with its `@cacheControl` hints: the only source of what may be shared and for how long. */
  routingTable: RoutingTable;
  /** Types a mutation changes beyond the ones it selects (placeOrder lowers Article stock). */
  mutationInvalidates?: Readonly<Record<string, readonly string[]>>;
}

/**
 * "Look in the cache first, store after": a query the schema declares public (`@cacheControl(scope:
 * PUBLIC)` on everything it selects) is answered from the shared cache within its `maxAge`, as the
 * bytes it was stored as, without touching any gateway; a successful answer is stored and tagged
 * with every type it contains. A mutation drops the entries tagged with the types it touches
 * (placeOrder returns Orders with Articles, so cached article pages go). Hand-written rather than
 * @envelop/response-cache because answers live in our CacheStore, which skips Redis when it is down
 * or slow instead of failing the request, and because only public data may be shared here.
 */
export function createResponseCacheStage(options: ResponseCacheOptions): EdgeStage {
  const { store, routingTable, mutationInvalidates = {} } = options;
  const tagOf = (type: string) => `rc-type:${type}`;
  return async (request) => {
    const { params } = request;
    const analysis = analyseOperation(routingTable, request.document!, params.operationName);
    const type = analysis.operation.operation;
    if (type === 'mutation') {
      request.after(() => {
        const changed = new Set(analysis.types);
        for (const root of rootFieldsOf(analysis, params.variables ?? {})) for (const name of mutationInvalidates[root.fieldName] ?? []) changed.add(name);
        for (const name of changed) void store.invalidateTag(tagOf(name));
      });
      return undefined;
    }
    if (type !== 'query' || !analysis.cacheScope.isPublic || analysis.cacheScope.maxAge <= 0) return undefined;
    const ttl = analysis.cacheScope.maxAge;
    const key = `rc:${createHash('sha256')
      .update(analysis.documentHash)
      .update('\0')
      .update(params.operationName ?? '')
      .update('\0')
      .update(JSON.stringify(params.variables ?? {}))
      .digest('base64url')}`;
    const cached = await store.get(key);
    if (cached) {
      // Passed on as stored, unless something must be added to it (a cost report) or it goes out as an SSE event.
      if (!request.extensions && request.source.mediaType !== 'text/event-stream') return { kind: 'bytes', status: 200, body: cached };
      try {
        return { kind: 'result', result: JSON.parse(cached) as ExecutionResult };
      } catch {
        // a corrupt entry is a miss
      }
    }
    request.after((result) => {
      if (!result || result.errors?.length || !result.data) return;
      // An answer passed on as its bytes (`{"data":…}`) is stored as them, without a parse.
      const stringify = (result as { stringify?: () => string }).stringify;
      void store.set(key, stringify ? stringify() : JSON.stringify({ data: result.data }), ttl);
      for (const name of analysis.types) void store.tag(tagOf(name), key, ttl);
    });
    return undefined;
  };
}
