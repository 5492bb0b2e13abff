import { Kind, parse, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { LRUCache } from 'lru-cache';

/** What the data source needs to know about one subgraph fetch the gateway generated. */
export interface FetchShape {
  document: DocumentNode | undefined;
  isMutation: boolean;
  /** `_entities` fetch (paths are per representation) or a root fetch. */
  isEntities: boolean;
  rootFieldNames: string[];
  /** Response keys (aliases) of the root fields. */
  rootKeys: string[];
}

// The gateway sends a bounded set of operation texts (one per query-plan fetch): parse each once.
const shapes = new LRUCache<string, FetchShape>({ max: 2_000 });

export function fetchShape(query: string | undefined): FetchShape {
  const text = query ?? '';
  let shape = shapes.get(text);
  if (!shape) {
    shape = analyse(text);
    shapes.set(text, shape);
  }
  return shape;
}

function analyse(query: string): FetchShape {
  let document: DocumentNode | undefined;
  try {
    document = parse(query);
  } catch {
    document = undefined;
  }
  const operation = document?.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const fields = (operation?.selectionSet.selections ?? []).flatMap((s) =>
    s.kind === Kind.FIELD && s.name.value !== '__typename' ? [s] : [],
  );
  return {
    document,
    isMutation: operation?.operation === 'mutation' || (!operation && /^\s*mutation\b/.test(query)),
    isEntities: fields.some((f) => f.name.value === '_entities'),
    rootFieldNames: fields.map((f) => f.name.value),
    rootKeys: fields.map((f) => f.alias?.value ?? f.name.value),
  };
}
