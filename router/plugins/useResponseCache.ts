import { createHash } from 'node:crypto';
import {
  Kind,
  TypeInfo,
  getNamedType,
  getOperationAST,
  isCompositeType,
  print,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type ExecutionResult,
  type FragmentDefinitionNode,
  type GraphQLSchema,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { CacheStore } from '../../lib/cache/cacheStore.ts';
import { collectRootFields } from '../collectRootFields.ts';
import type { RouterContext } from '../routerContext.ts';

export interface ResponseCacheOptions {
  store: CacheStore;
  /** Public root fields that may be answered from the cache, with their TTL in seconds (0 = never). */
  ttlSeconds: Readonly<Record<string, number>>;
  schema: GraphQLSchema;
  /** Types a mutation changes beyond the ones it selects (placeOrder lowers Article stock). */
  mutationInvalidates?: Readonly<Record<string, readonly string[]>>;
}

/**
 * "Look in the cache first, store after": a query whose every root field is public and has a TTL is
 * answered from the shared cache within that TTL without touching any gateway; a successful answer
 * is stored and tagged with every type it contains. A mutation drops the entries tagged with the
 * types it touches (placeOrder returns Orders with Articles, so cached article pages go).
 * Hand-written rather than @envelop/response-cache because answers live in our CacheStore, which
 * skips Redis when it is down or slow instead of failing the request, and because only public
 * data may be shared here, never per-principal data.
 */
export function useResponseCache(options: ResponseCacheOptions): Plugin<RouterContext> {
  const { store, ttlSeconds, schema, mutationInvalidates = {} } = options;
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const document = args.document as DocumentNode;
      const operationName = args.operationName ?? undefined;
      const operation = getOperationAST(document, operationName);
      if (!operation) return;
      const fragments = new Map(
        document.definitions
          .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
          .map((d) => [d.name.value, d]),
      );
      const variables = (args.variableValues ?? {}) as Record<string, unknown>;
      const roots = collectRootFields(operation.selectionSet, fragments, variables);
      if (operation.operation === 'mutation') {
        return {
          onExecuteDone() {
            const changed = new Set(typesIn(schema, document, operationName));
            for (const root of roots) for (const type of mutationInvalidates[root.fieldName] ?? []) changed.add(type);
            for (const type of changed) void store.invalidateTag(tagOf(type));
          },
        };
      }
      if (operation.operation !== 'query') return;
      const ttls = roots.map((f) => ttlSeconds[f.fieldName] ?? 0);
      if (roots.length === 0 || ttls.some((ttl) => ttl <= 0)) return;
      const ttl = Math.min(...ttls);
      const key = `rc:${createHash('sha256')
        .update(print(document))
        .update('\0')
        .update(operationName ?? '')
        .update('\0')
        .update(JSON.stringify(variables))
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
          void store.set(key, JSON.stringify({ data: single.data }), ttl);
          for (const type of typesIn(schema, document, operationName)) void store.tag(tagOf(type), key, ttl);
        },
      };
    },
  };
}

function tagOf(type: string): string {
  return `rc-type:${type}`;
}

// yoga caches parsed documents, so a repeated operation is the same DocumentNode: walk it once.
const typesByDocument = new WeakMap<DocumentNode, Map<string, ReadonlySet<string>>>();

/** Every object, interface or union type the operation selects (what its answer contains). */
function typesIn(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null): ReadonlySet<string> {
  let byOperation = typesByDocument.get(document);
  if (!byOperation) typesByDocument.set(document, (byOperation = new Map()));
  let types = byOperation.get(operationName ?? '');
  if (!types) byOperation.set(operationName ?? '', (types = collectTypes(schema, document, operationName)));
  return types;
}

function collectTypes(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null): Set<string> {
  const types = new Set<string>();
  const typeInfo = new TypeInfo(schema);
  const operation = getOperationAST(document, operationName);
  const rootName = operation?.operation === 'mutation' ? schema.getMutationType()?.name : schema.getQueryType()?.name;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field() {
        const type = typeInfo.getType();
        const named = type && getNamedType(type);
        if (named && isCompositeType(named) && named.name !== rootName) types.add(named.name);
      },
    }),
  );
  return types;
}
