import {
  Kind,
  print,
  visit,
  type ASTNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type OperationTypeNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import { cacheScopeOf } from '../lib/fallback/cacheScope.ts';
import { SupergraphName } from '../lib/topology/loadTopology.ts';
import type { RootField } from './collectRootFields.ts';
import { analyseOperation, rootFieldsOf, type OperationAnalysis } from './operationAnalysis.ts';
import type { RootOperation, RoutingTable } from './routingTable.ts';

/** Root fields the router answers itself from the public schema. */
export const LOCAL_ROOT_FIELDS: ReadonlySet<string> = new Set(['__typename', '__schema', '__type']);

/** A self-contained operation for one supergraph gateway. */
export interface SubOperation {
  supergraph: SupergraphName;
  document: DocumentNode;
  /** What is sent: the client's own text on passthrough, the printed document otherwise. */
  query: string;
  /** Only the variables this part uses. */
  variables: Record<string, unknown>;
  operationName?: string;
  /** Root response keys this part answers, in client order. */
  responseKeys: string[];
  /** Its answer is the same for everyone (`@cacheControl` hints): its fallback entry is shared. */
  isPublic: boolean;
}

/** The root introspection / `__typename` part the router executes against the public schema. */
export interface LocalOperation {
  document: DocumentNode;
  variables: Record<string, unknown>;
  operationName?: string;
  responseKeys: string[];
}

/** How one client operation is answered. */
export interface OperationPlan {
  operationType: OperationTypeNode;
  /** Root fields the client will get, in its order (skipped fields left out). */
  rootFields: RootField[];
  /** Gateway calls; for mutations in the order they must run. */
  parts: SubOperation[];
  local?: LocalOperation;
  /** True when the client's text goes to one gateway unchanged. */
  passthrough: boolean;
}

export interface SplitInput {
  document: DocumentNode;
  operationName?: string | null;
  /** Variable values as the client sent them; these are what gateways receive. */
  variables?: Record<string, unknown> | null;
  /** Coerced values for evaluating `@skip`/`@include` (defaults applied); the raw ones when absent. */
  coercedVariables?: Record<string, unknown>;
  /** The client's query text, sent unchanged on passthrough. */
  query?: string;
  routingTable: RoutingTable;
}

type Owner = SupergraphName | 'local';

/** A part of a plan without its variable values: what is memoised per operation. */
type PartShape = Omit<SubOperation, 'variables' | 'query'> & { query: string | undefined; variableNames: readonly string[] | 'all' };
interface PlanShape {
  operationType: OperationTypeNode;
  rootFields: RootField[];
  parts: PartShape[];
  local?: Omit<LocalOperation, 'variables'> & { variableNames: readonly string[] };
  passthrough: boolean;
}

/**
 * Splits a validated operation into one sub-operation per supergraph it touches (mutations: one per
 * consecutive run of root fields of the same supergraph, so side effects keep the client's order),
 * plus a local part for root `__typename` and introspection. The split itself is memoised per
 * operation (and per set of root fields `@skip`/`@include` leave); only the variables are bound per call.
 */
export function splitOperation(input: SplitInput): OperationPlan {
  const { document, routingTable } = input;
  const rawVariables = input.variables ?? {};
  const analysis = analyseOperation(routingTable, document, input.operationName);
  const rootFields = rootFieldsOf(analysis, input.coercedVariables ?? rawVariables);
  const shapeKey = analysis.staticRootFields ? '' : rootFields.map((f) => f.responseKey).join('\0');
  let shape = analysis.plans.get(shapeKey) as PlanShape | undefined;
  if (!shape) analysis.plans.set(shapeKey, (shape = planShape(analysis, rootFields, routingTable)));
  const bind = (names: readonly string[] | 'all') => (names === 'all' ? { ...rawVariables } : pick(rawVariables, names));
  return {
    operationType: shape.operationType,
    rootFields: shape.rootFields,
    parts: shape.parts.map(({ variableNames, query, ...part }) => ({
      ...part,
      query: query ?? input.query ?? printOnce(analysis),
      variables: bind(variableNames),
    })),
    local: shape.local && (({ variableNames, ...local }) => ({ ...local, variables: bind(variableNames) }))(shape.local),
    passthrough: shape.passthrough,
  };
}

function planShape(analysis: OperationAnalysis, rootFields: RootField[], routingTable: RoutingTable): PlanShape {
  const { document, operation, fragments } = analysis;
  const rootOperation = operation.operation as RootOperation;
  const ownerOf = (fieldName: string): Owner => {
    if (LOCAL_ROOT_FIELDS.has(fieldName)) return 'local';
    const owner = routingTable.ownerOf(rootOperation, fieldName);
    // Validation against the public schema rules this out; reaching it means the table is stale.
    if (!owner) throw new Error(`no supergraph owns ${rootOperation} field ${fieldName}`);
    return owner;
  };
  const operationName = operation.name?.value;

  const written = writtenOwners(operation.selectionSet, fragments, ownerOf);
  const operationCount = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION).length;
  if (operationCount === 1 && written.size === 1 && !written.has('local')) {
    const [supergraph] = written as Set<SupergraphName>;
    return {
      operationType: operation.operation,
      rootFields,
      parts: [{
        supergraph,
        document,
        query: undefined,
        variableNames: 'all',
        operationName,
        responseKeys: rootFields.map((field) => field.responseKey),
        isPublic: analysis.cacheScope.isPublic,
      }],
      passthrough: true,
    };
  }

  const build = (owner: Owner, keys: string[]) => {
    const wanted = new Set(keys);
    const selectionSet = filterRootSelections(operation.selectionSet, fragments, (field) =>
      ownerOf(field.name.value) === owner && wanted.has(field.alias?.value ?? field.name.value),
    );
    // Every wanted key came from this selection set, so the filter never comes back empty.
    return { ...assemble(operation, selectionSet!, fragments, document), operationName, responseKeys: keys };
  };

  const parts: PartShape[] = [];
  for (const group of groupByOwner(rootFields, ownerOf, operation.operation === 'mutation')) {
    const part = build(group.owner, group.keys);
    const isPublic = cacheScopeOf(routingTable.schema, routingTable.cacheHints, part.document).isPublic;
    parts.push({ supergraph: group.owner, ...part, query: print(part.document), isPublic });
  }
  const localKeys = rootFields.filter((f) => ownerOf(f.fieldName) === 'local').map((f) => f.responseKey);
  return {
    operationType: operation.operation,
    rootFields,
    parts,
    local: localKeys.length ? build('local', localKeys) : undefined,
    passthrough: false,
  };
}

const printed = new WeakMap<OperationAnalysis, string>();
/** The client's document as text, for a passthrough without the client's own text at hand. */
function printOnce(analysis: OperationAnalysis): string {
  let text = printed.get(analysis);
  if (text === undefined) printed.set(analysis, (text = print(analysis.document)));
  return text;
}

function pick(values: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of names) if (Object.hasOwn(values, name)) out[name] = values[name];
  return out;
}

/**
 * Queries: one group per supergraph, ordered by first appearance. Mutations: one group per
 * consecutive run (A, B, A stays three groups) because graphql runs mutation fields serially.
 */
function groupByOwner(
  rootFields: RootField[],
  ownerOf: (fieldName: string) => Owner,
  runs: boolean,
): Array<{ owner: SupergraphName; keys: string[] }> {
  const groups: Array<{ owner: SupergraphName; keys: string[] }> = [];
  for (const field of rootFields) {
    const owner = ownerOf(field.fieldName);
    if (owner === 'local') continue;
    const group = runs ? groups.at(-1) : groups.find((g) => g.owner === owner);
    if (group && group.owner === owner) group.keys.push(field.responseKey);
    else groups.push({ owner, keys: [field.responseKey] });
  }
  return groups;
}

/** Owners of every root field written in the operation, skipped or not. */
function writtenOwners(
  selectionSet: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  ownerOf: (fieldName: string) => Owner,
): Set<Owner> {
  const owners = new Set<Owner>();
  filterRootSelections(selectionSet, fragments, (field) => {
    owners.add(ownerOf(field.name.value));
    return false;
  });
  return owners;
}

/**
 * Keeps the root fields `keep` accepts, walking through root inline fragments and fragment spreads.
 * A root spread becomes an inline fragment (same type condition and directives) because a filtered
 * copy of a named fragment would differ per part. Fragments below the root are left whole.
 */
function filterRootSelections(
  selectionSet: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  keep: (field: FieldNode) => boolean,
  visiting: ReadonlySet<string> = new Set(),
): SelectionSetNode | undefined {
  const selections: SelectionNode[] = [];
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (keep(selection)) selections.push(selection);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const inner = filterRootSelections(selection.selectionSet, fragments, keep, visiting);
      if (inner) selections.push({ ...selection, selectionSet: inner });
    } else {
      const name = selection.name.value;
      const fragment = fragments.get(name);
      if (!fragment || visiting.has(name)) continue;
      const inner = filterRootSelections(fragment.selectionSet, fragments, keep, new Set([...visiting, name]));
      if (inner) {
        selections.push({
          kind: Kind.INLINE_FRAGMENT,
          typeCondition: fragment.typeCondition,
          directives: selection.directives,
          selectionSet: inner,
        });
      }
    }
  }
  return selections.length ? { kind: Kind.SELECTION_SET, selections } : undefined;
}

/** A one-operation document with only the fragments and variables its selections use. */
function assemble(
  operation: OperationDefinitionNode,
  selectionSet: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  original: DocumentNode,
): { document: DocumentNode; variableNames: string[] } {
  const usedFragments = new Set<string>();
  const pending: ASTNode[] = [selectionSet];
  while (pending.length) {
    visit(pending.pop()!, {
      FragmentSpread(node) {
        const fragment = fragments.get(node.name.value);
        if (fragment && !usedFragments.has(node.name.value)) {
          usedFragments.add(node.name.value);
          pending.push(fragment);
        }
      },
    });
  }
  const fragmentDefinitions = original.definitions.filter(
    (d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION && usedFragments.has(d.name.value),
  );

  const usedVariables = new Set<string>();
  const collectVariables = { Variable: (node: { name: { value: string } }) => void usedVariables.add(node.name.value) };
  visit(selectionSet, collectVariables);
  for (const directive of operation.directives ?? []) visit(directive, collectVariables);
  for (const fragment of fragmentDefinitions) visit(fragment, collectVariables);

  const variableDefinitions = (operation.variableDefinitions ?? []).filter((v) => usedVariables.has(v.variable.name.value));
  const part: OperationDefinitionNode = {
    kind: Kind.OPERATION_DEFINITION,
    operation: operation.operation,
    name: operation.name,
    variableDefinitions,
    directives: operation.directives,
    selectionSet,
  };
  return {
    document: { kind: Kind.DOCUMENT, definitions: [part, ...fragmentDefinitions] },
    variableNames: variableDefinitions.map((v) => v.variable.name.value),
  };
}
