import { createHash } from 'node:crypto';
import {
  Kind,
  TypeInfo,
  getNamedType,
  isCompositeType,
  print,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { operationResolutionFailure } from '../lib/errors.ts';
import { cacheScopeOf, type CacheScope } from '../lib/fallback/cacheScope.ts';
import { collectRootFields, type RootField } from './collectRootFields.ts';
import type { RoutingTable } from './routingTable.ts';

/**
 * Everything the router needs to know about one operation of one parsed document that does not
 * depend on variables, worked out once: yoga's parse cache hands back the same DocumentNode for the
 * same text, so the response cache and the routing of every later request with that text share it.
 */
export interface OperationAnalysis {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  /** Root fields, when no root-level `@skip`/`@include` makes them depend on variables. */
  staticRootFields: RootField[] | undefined;
  /** Public (shareable across principals) and for how long, from the schema's `@cacheControl` hints. */
  cacheScope: CacheScope;
  /** Every object, interface or union type the operation selects besides the root (what its answer contains). */
  readonly types: ReadonlySet<string>;
  /** SHA-256 of the printed document: a cache key that ignores whitespace and comments. */
  readonly documentHash: string;
  /** Plans by the root fields `@skip`/`@include` left (one entry for most operations); filled by splitOperation. */
  readonly plans: Map<string, unknown>;
}

const analyses = new WeakMap<RoutingTable, WeakMap<DocumentNode, Map<string, OperationAnalysis>>>();

/** The memoised analysis of `document`'s operation `operationName`; throws OPERATION_RESOLUTION_FAILURE when there is none. */
export function analyseOperation(routingTable: RoutingTable, document: DocumentNode, operationName?: string | null): OperationAnalysis {
  let byDocument = analyses.get(routingTable);
  if (!byDocument) analyses.set(routingTable, (byDocument = new WeakMap()));
  let byName = byDocument.get(document);
  if (!byName) byDocument.set(document, (byName = new Map()));
  let analysis = byName.get(operationName ?? '');
  if (!analysis) byName.set(operationName ?? '', (analysis = analyse(routingTable, document, operationName)));
  return analysis;
}

/** The root fields the operation executes with these (coerced) variables. */
export function rootFieldsOf(analysis: OperationAnalysis, variables: Record<string, unknown>): RootField[] {
  return analysis.staticRootFields ?? collectRootFields(analysis.operation.selectionSet, analysis.fragments, variables);
}

function analyse(routingTable: RoutingTable, document: DocumentNode, operationName?: string | null): OperationAnalysis {
  const operation = findOperation(document, operationName);
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  let types: ReadonlySet<string> | undefined;
  let documentHash: string | undefined;
  return {
    document,
    operation,
    fragments,
    staticRootFields: hasRootConditions(operation.selectionSet, fragments) ? undefined : collectRootFields(operation.selectionSet, fragments),
    cacheScope: cacheScopeOf(routingTable.schema, routingTable.cacheHints, document, operationName),
    // Only cached and mutating operations need these two: computed on first use.
    get types() {
      return (types ??= collectTypes(routingTable, document, operation));
    },
    get documentHash() {
      return (documentHash ??= createHash('sha256').update(print(document)).digest('base64url'));
    },
    plans: new Map(),
  };
}

/** The operation graphql-js would run, or a 400 OPERATION_RESOLUTION_FAILURE. */
export function findOperation(document: DocumentNode, operationName?: string | null): OperationDefinitionNode {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (operationName) {
    const found = operations.find((op) => op.name?.value === operationName);
    if (found) return found;
    throw operationResolutionFailure(`Unknown operation named "${operationName}".`);
  }
  if (operations.length === 1) return operations[0];
  throw operationResolutionFailure(operations.length ? 'Must provide operation name if query contains multiple operations.' : 'Must provide an operation.');
}

/** Whether `@skip`/`@include` sit on any root-level selection (then the root fields depend on variables). */
function hasRootConditions(selectionSet: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>, seen = new Set<string>()): boolean {
  for (const selection of selectionSet.selections) {
    if (selection.directives?.some((d) => d.name.value === 'skip' || d.name.value === 'include')) return true;
    if (selection.kind === Kind.INLINE_FRAGMENT && hasRootConditions(selection.selectionSet, fragments, seen)) return true;
    if (selection.kind === Kind.FRAGMENT_SPREAD && !seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = fragments.get(selection.name.value);
      if (fragment && hasRootConditions(fragment.selectionSet, fragments, seen)) return true;
    }
  }
  return false;
}

function collectTypes(routingTable: RoutingTable, document: DocumentNode, operation: OperationDefinitionNode): Set<string> {
  const types = new Set<string>();
  const typeInfo = new TypeInfo(routingTable.schema);
  const rootName = routingTable.schema.getRootType(operation.operation)?.name;
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
