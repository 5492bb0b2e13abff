import { Kind, parse, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { CacheHints } from '../lib/fallback/cacheHints.ts';
import { cacheScopeOf } from '../lib/fallback/cacheScope.ts';
import { idempotencyKeyArguments, type IdempotencyKeyArguments, type IdempotentWrites } from '../lib/upstream/idempotentWrites.ts';

/** What the data source needs to know about one subgraph fetch of a query plan, worked out once per fetch. */
export interface FetchShape {
  document: DocumentNode | undefined;
  isMutation: boolean;
  /** `_entities` fetch (paths are per representation) or a root fetch. */
  isEntities: boolean;
  /** Response keys (aliases) of the root fields. */
  rootKeys: string[];
  /** Its answer is the same for every principal (`@cacheControl(scope: PUBLIC)` on all it selects). */
  isPublic: boolean;
  /** The fetch's query text as a JSON string, encoded once for every request body that carries it. */
  queryJson: string;
  /**
   * For a write whose every root field is declared `@idempotent`: where each one's key sits; with
   * the keys present in a request's variables, the write may be sent to a twin after any failure.
   */
  idempotencyKeys?: IdempotencyKeyArguments;
}

/** Reads fetch shapes against the supergraph schema and its cache hints. */
export interface FetchShapes {
  /** By the plan's parsed fetch document (kept by the gateway's plan cache), or by its text. */
  of(document: DocumentNode | undefined, query: string): FetchShape;
}

export function createFetchShapes(supergraphSchema: GraphQLSchema, hints: CacheHints, writes?: IdempotentWrites): FetchShapes {
  const rootTypes = {
    query: supergraphSchema.getQueryType()?.name,
    mutation: supergraphSchema.getMutationType()?.name,
    subscription: supergraphSchema.getSubscriptionType()?.name,
  };
  // Query plans are cached, so each fetch document is one object for as long as its plan lives.
  const byDocument = new WeakMap<DocumentNode, FetchShape>();
  // Keyed by fetch text, which a hostile router cannot send but a big operation makes long: bounded in bytes too.
  const byText = new LRUCache<string, FetchShape>({ max: 2_000, maxSize: 16 * 1024 * 1024, sizeCalculation: (_shape, query) => 2 * query.length + 256 });
  const analyse = (document: DocumentNode | undefined, query: string): FetchShape => {
    const operation = document?.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    const fields = (operation?.selectionSet.selections ?? []).flatMap((s) =>
      s.kind === Kind.FIELD && s.name.value !== '__typename' ? [s] : [],
    );
    return {
      document,
      // An unreadable fetch is treated as a mutation: never retried, cached or stood in for.
      isMutation: !operation || operation.operation === 'mutation',
      isEntities: fields.some((f) => f.name.value === '_entities'),
      rootKeys: fields.map((f) => f.alias?.value ?? f.name.value),
      isPublic: document ? cacheScopeOf(supergraphSchema, hints, document).isPublic : false,
      queryJson: JSON.stringify(query),
      idempotencyKeys:
        operation && writes && operation.operation !== 'query' && rootTypes[operation.operation]
          ? idempotencyKeyArguments(operation, rootTypes[operation.operation]!, writes)
          : undefined,
    };
  };
  return {
    of(document, query) {
      if (document) {
        let shape = byDocument.get(document);
        if (!shape) byDocument.set(document, (shape = analyse(document, query)));
        return shape;
      }
      let shape = byText.get(query);
      if (!shape) byText.set(query, (shape = analyse(tryParse(query), query)));
      return shape;
    },
  };
}

function tryParse(query: string): DocumentNode | undefined {
  try {
    return parse(query);
  } catch {
    return undefined;
  }
}
