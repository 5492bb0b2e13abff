import { createHash } from 'node:crypto';
import type { DocumentNode, ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { CacheStore } from '../../lib/cache/cacheStore.ts';
import { analyseOperation, rootFieldsOf } from '../operationAnalysis.ts';
import type { RouterContext } from '../routerContext.ts';
import type { RoutingTable } from '../routingTable.ts';

export interface ResponseCacheOptions {
  store: CacheStore;
  /** The public schema with its `@cacheControl` hints: the only source of what may be shared and for how long. */
  routingTable: RoutingTable;
  /** Types a mutation changes beyond the ones it selects (placeOrder lowers Article stock). */
  mutationInvalidates?: Readonly<Record<string, readonly string[]>>;
}

/**
 * "Look in the cache first, store after": a query the schema declares public (`@cacheControl(scope:
 * PUBLIC)` on everything it selects) is answered from the shared cache within its `maxAge` without
 * touching any gateway; a successful answer is stored and tagged with every type it contains. A
 * mutation drops the entries tagged with the types it touches (placeOrder returns Orders with
 * Articles, so cached article pages go). Hand-written rather than @envelop/response-cache because
 * answers live in our CacheStore, which skips Redis when it is down or slow instead of failing the
 * request, and because only public data may be shared here, never per-principal data.
 */
export function useResponseCache(options: ResponseCacheOptions): Plugin<RouterContext> {
  const { store, routingTable, mutationInvalidates = {} } = options;
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      let analysis;
      try {
        analysis = analyseOperation(routingTable, args.document as DocumentNode, args.operationName);
      } catch {
        return; // no such operation: the routing reports it
      }
      const type = analysis.operation.operation;
      if (type === 'mutation') {
        const variables = (args.variableValues ?? {}) as Record<string, unknown>;
        return {
          onExecuteDone() {
            const changed = new Set(analysis.types);
            for (const root of rootFieldsOf(analysis, variables)) for (const name of mutationInvalidates[root.fieldName] ?? []) changed.add(name);
            for (const name of changed) void store.invalidateTag(tagOf(name));
          },
        };
      }
      if (type !== 'query' || !analysis.cacheScope.isPublic || analysis.cacheScope.maxAge <= 0) return;
      const ttl = analysis.cacheScope.maxAge;
      const key = `rc:${createHash('sha256')
        .update(analysis.documentHash)
        .update('\0')
        .update(args.operationName ?? '')
        .update('\0')
        .update(JSON.stringify(args.variableValues ?? {}))
        .digest('base64url')}`;
      const cached = await store.get(key);
      if (cached) {
        try {
          setResultAndStopExecution(JSON.parse(cached) as ExecutionResult);
          return;
        } catch {
          // a corrupt entry is a miss
        }
      }
      return {
        onExecuteDone({ result }) {
          const single = result as ExecutionResult;
          if (!single || Symbol.asyncIterator in single || single.errors?.length || !single.data) return;
          // An answer passed on as its bytes (`{"data":…}`) is stored as them, without a parse.
          const stringify = (single as { stringify?: (result: ExecutionResult) => string }).stringify;
          void store.set(key, stringify ? stringify(single) : JSON.stringify({ data: single.data }), ttl);
          for (const name of analysis.types) void store.tag(tagOf(name), key, ttl);
        },
      };
    },
  };
}

function tagOf(type: string): string {
  return `rc-type:${type}`;
}
