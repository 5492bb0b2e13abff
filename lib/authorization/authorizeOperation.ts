import {
  Kind,
  getNamedType,
  isAbstractType,
  isCompositeType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type InlineFragmentNode,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import { allows, type AuthorizationRules, type Caller } from './authorizationRules.ts';

/** One field taken out of an operation for this caller, where the answer would have held it. */
export interface DeniedField {
  /** Response keys from the root, `@` for each list level (as Apollo Router reports such paths). */
  path: readonly string[];
  /** Whether each segment of `path` holds a non-null value: a null there goes up to the parent. */
  nonNull: readonly boolean[];
  /**
   * The object types that have the field at its place, when it sat in a fragment narrower than the
   * place's type: only objects of those types get its null (told apart by PROBE_KEY).
   */
  onTypes?: readonly string[];
}

/** The operation as this caller may run it, and what was taken out. */
export interface AuthorizedOperation {
  /** The same document when nothing was denied; else one with the denied fields removed. */
  document: DocumentNode;
  denied: readonly DeniedField[];
  /** Where a `__typename` was added under PROBE_KEY to tell types apart; removed from the answer by applyDenials. */
  probes: ReadonlyArray<readonly string[]>;
  /** True when every root field was denied: nothing is left to ask anyone (the answer is the denials alone). */
  nothingLeft?: boolean;
}

/** The response key of the `__typename` added where denied fields sat in narrower fragments. */
export const PROBE_KEY = '__authorizationTypename';

type Segments = { keys: string[]; nonNull: boolean[] };

/**
 * Takes out of an operation every field the caller may not see (`@authenticated`, `@requiresScopes`
 * on the field or on the type it returns), as Apollo Router's authorization does: the rest runs, and
 * each removed field is answered null with an UNAUTHORIZED_FIELD_OR_TYPE error (applyDenials). A
 * selection left empty takes its parent field out too. A fragment that lost fields is replaced by a
 * filtered copy under a new name where it lost them (the same fragment may lose different fields
 * elsewhere), so the work and the filtered document stay linear in the client's document, fragment
 * bombs included; a document with nothing denied comes back as it was, so caches keyed by it still hit.
 */
export function authorizeOperation(
  schema: GraphQLSchema,
  rules: AuthorizationRules,
  document: DocumentNode,
  operationName: string | null | undefined,
  caller: Caller,
): AuthorizedOperation {
  const operation = document.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName),
  );
  const root = operation && schema.getRootType(operation.operation);
  if (rules.empty || !operation || !root) return { document, denied: [], probes: [] };
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const denied: DeniedField[] = [];
  const probes: string[][] = [];
  // A fragment is filtered once per place and path: spread at the same path again (as fragment bombs
  // do, 2^n times) it is the same answer. A fragment that lost fields becomes a new fragment, spread
  // where the old one was, so the filtered document stays as small as the client's.
  const memo = new Map<string, { replacement: string | null | undefined; changed: boolean; denied: DeniedField[] }>();
  const added: FragmentDefinitionNode[] = [];
  const freshName = (name: string): string => {
    let candidate = `${name}_authorized`;
    for (let n = 2; fragments.has(candidate) || added.some((f) => f.name.value === candidate); n++) candidate = `${name}_authorized${n}`;
    return candidate;
  };

  const filter = (set: SelectionSetNode, parent: GraphQLCompositeType, place: GraphQLCompositeType, at: Segments, out: DeniedField[]): { set?: SelectionSetNode; changed: boolean } => {
    const kept: SelectionNode[] = [];
    let changed = false;
    let needsProbe = false;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const result = filterField(selection, parent, place, at, out);
        if (result.probe) needsProbe = true;
        if (result.field) kept.push(result.field);
        changed ||= result.field !== selection;
        continue;
      }
      const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : fragments.get(selection.name.value);
      if (!fragment) {
        kept.push(selection);
        continue;
      }
      const condition = fragment.typeCondition ? schema.getType(fragment.typeCondition.name.value) : parent;
      if (!condition || !isCompositeType(condition)) {
        kept.push(selection);
        continue;
      }
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const key = `${selection.name.value}\0${place.name}\0${at.keys.join('\0')}`;
        let entry = memo.get(key);
        if (!entry) {
          const own: DeniedField[] = [];
          const inner = filter(fragment.selectionSet, condition, place, at, own);
          let replacement: string | null | undefined;
          if (inner.changed && inner.set) {
            replacement = freshName(selection.name.value);
            added.push({ ...(fragment as FragmentDefinitionNode), name: { kind: Kind.NAME, value: replacement }, selectionSet: inner.set });
          } else if (inner.changed) replacement = null; // nothing of it left
          memo.set(key, (entry = { replacement, changed: inner.changed, denied: unique(own) }));
        }
        out.push(...entry.denied);
        if (!entry.changed) kept.push(selection);
        else if (entry.replacement) kept.push({ ...selection, name: { kind: Kind.NAME, value: entry.replacement } });
        changed ||= entry.changed;
        continue;
      }
      const inner = filter(fragment.selectionSet, condition, place, at, out);
      if (!inner.changed) kept.push(selection);
      else if (inner.set) kept.push({ kind: Kind.INLINE_FRAGMENT, typeCondition: fragment.typeCondition, directives: selection.directives, selectionSet: inner.set } satisfies InlineFragmentNode);
      changed ||= inner.changed;
    }
    if (needsProbe && kept.length) {
      kept.push({ kind: Kind.FIELD, alias: { kind: Kind.NAME, value: PROBE_KEY }, name: { kind: Kind.NAME, value: '__typename' } } satisfies FieldNode);
      probes.push(at.keys);
    }
    if (!changed) return { set, changed: false };
    return { set: kept.length ? { ...set, selections: kept } : undefined, changed: true };
  };

  const filterField = (field: FieldNode, parent: GraphQLCompositeType, place: GraphQLCompositeType, at: Segments, out: DeniedField[]): { field?: FieldNode; probe?: boolean } => {
    const name = field.name.value;
    if (name.startsWith('__') || !(isObjectType(parent) || isInterfaceType(parent))) return { field };
    const definition = parent.getFields()[name];
    if (!definition) return { field };
    const segments = segmentsOf(definition.type, field.alias?.value ?? name);
    // Where the field itself sits (its value is what a denial nulls), and where its selections sit (past its list levels).
    const self = { path: [...at.keys, segments.keys[0]], nonNull: [...at.nonNull, segments.nonNull[0]] };
    const here = { keys: [...at.keys, ...segments.keys], nonNull: [...at.nonNull, ...segments.nonNull] };
    const named = getNamedType(definition.type);
    // A field in a fragment narrower than its place exists only on some of the objects there.
    const narrower = parent !== place && isAbstractType(place);
    if (!allows(rules.field(parent.name, name), caller) || !allows(rules.type(named.name), caller)) {
      out.push({ ...self, ...(narrower ? { onTypes: possibleTypes(schema, parent) } : {}) });
      return { probe: narrower };
    }
    if (!field.selectionSet || !isCompositeType(named)) return { field };
    const below: DeniedField[] = [];
    const inner = filter(field.selectionSet, named, named, here, below);
    if (!inner.changed) return { field };
    if (!inner.set) {
      // Nothing of it left to ask for: the field itself goes, answered null like a denied one.
      out.push({ ...self, ...(narrower ? { onTypes: possibleTypes(schema, parent) } : {}) });
      return { probe: narrower };
    }
    out.push(...below);
    return { field: { ...field, selectionSet: inner.set } };
  };

  const result = filter(operation.selectionSet, root, root, { keys: [], nonNull: [] }, denied);
  if (!result.changed) return { document, denied: [], probes: [] };
  // An operation left with nothing still needs a selection: `__typename` asks nothing of anyone.
  const selectionSet = result.set ?? { kind: Kind.SELECTION_SET, selections: [{ kind: Kind.FIELD, name: { kind: Kind.NAME, value: '__typename' } }] };
  const every = new Map([...fragments, ...added.map((f) => [f.name.value, f] as const)]);
  const used = usedFragments(selectionSet, every);
  const filtered: DocumentNode = {
    kind: Kind.DOCUMENT,
    definitions: [{ ...operation, selectionSet }, ...[...every.values()].filter((f) => used.has(f.name.value))],
  };
  return { document: filtered, denied: unique(denied), probes, ...(result.set ? {} : { nothingLeft: true }) };
}

/** The path segments a field adds: its response key, then `@` per list level, each with its nullability. */
function segmentsOf(type: GraphQLOutputType, key: string): Segments {
  const keys = [key];
  const nonNull = [isNonNullType(type)];
  let current = isNonNullType(type) ? type.ofType : type;
  while (isListType(current)) {
    const item = current.ofType as GraphQLOutputType;
    keys.push('@');
    nonNull.push(isNonNullType(item));
    current = isNonNullType(item) ? item.ofType : item;
  }
  return { keys, nonNull };
}

function possibleTypes(schema: GraphQLSchema, type: GraphQLCompositeType): string[] {
  return isAbstractType(type) ? schema.getPossibleTypes(type).map((t) => t.name) : [type.name];
}

/** The fragments a selection set spreads, directly or through other fragments: each fragment read once. */
function usedFragments(set: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>): Set<string> {
  const used = new Set<string>();
  const visit = (current: SelectionSetNode): void => {
    for (const s of current.selections) {
      if (s.kind === Kind.FRAGMENT_SPREAD) {
        if (used.has(s.name.value)) continue;
        used.add(s.name.value);
        const fragment = fragments.get(s.name.value);
        if (fragment) visit(fragment.selectionSet);
      } else if (s.selectionSet) visit(s.selectionSet);
    }
  };
  visit(set);
  return used;
}

/** Denials once each: a fragment spread twice at one place denies its fields there once. */
function unique(denied: DeniedField[]): DeniedField[] {
  const seen = new Set<string>();
  return denied.filter((d) => {
    const key = `${d.path.join('\0')}\0${d.onTypes?.join(',') ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
