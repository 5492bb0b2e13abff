import {
  Kind,
  getNamedType,
  isCompositeType,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { CacheHint, CacheHints } from './cacheHints.ts';

/** Whether an operation's answer is the same for everyone, and for how long it stays fresh. */
export interface CacheScope {
  /** True only when every field it selects is declared public: its answer may be shared across principals. */
  isPublic: boolean;
  /** Seconds a public answer stays fresh (0: shared as a fallback, never served fresh from a cache). */
  maxAge: number;
}

const PRIVATE: CacheScope = { isPublic: false, maxAge: 0 };

/**
 * Decides from `@cacheControl` hints whether an operation is public. Conservative on purpose, because a
 * wrong "public" serves one user's data to another: a root field or a field returning an object must
 * be hinted PUBLIC (on the field or on its type) or `inheritMaxAge` from a public parent; a PRIVATE hint
 * anywhere makes the whole answer private; a field the schema does not know makes it private too.
 * Leaf fields inherit their parent's scope. `_entities` fetches (the gateway's) are judged by the types
 * of their inline fragments.
 */
export function cacheScopeOf(schema: GraphQLSchema, hints: CacheHints, document: DocumentNode, operationName?: string | null): CacheScope {
  const operation = document.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName),
  );
  const root = operation && schema.getRootType(operation.operation);
  if (!operation || !root || operation.operation !== 'query') return PRIVATE;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);

  let maxAge = Number.POSITIVE_INFINITY;
  const lower = (hint: CacheHint | undefined) => {
    if (hint?.maxAge !== undefined) maxAge = Math.min(maxAge, hint.maxAge);
  };
  const typeOf = (name: string): GraphQLCompositeType | undefined => {
    const type = schema.getType(name);
    return type && isCompositeType(type) ? type : undefined;
  };

  const walked = new Map<string, boolean>();
  /** False as soon as something private is selected. */
  const walk = (set: SelectionSetNode, parent: GraphQLCompositeType, isRoot: boolean, seen: ReadonlySet<string>): boolean => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? typeOf(selection.typeCondition.name.value) : parent;
        if (!type || hints.type(type.name)?.scope === 'PRIVATE') return false;
        if (!walk(selection.selectionSet, type, isRoot, seen)) return false;
        continue;
      }
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        const type = fragment && typeOf(fragment.typeCondition.name.value);
        if (!fragment || !type || seen.has(fragment.name.value)) return false;
        // Once per fragment (and root or not): walking it at every spread is exponential in a
        // document whose fragments spread each other twice over. Its maxAge was lowered the first time.
        const key = `${isRoot}:${fragment.name.value}`;
        let verdict = walked.get(key);
        if (verdict === undefined) walked.set(key, (verdict = walk(fragment.selectionSet, type, isRoot, new Set([...seen, fragment.name.value]))));
        if (!verdict) return false;
        continue;
      }
      const name = selection.name.value;
      if (name === '__typename' || name === '__schema' || name === '__type') continue;
      if (isRoot && name === '_entities') {
        // Each branch `... on T` is public only if T is: the representations name T's entities.
        for (const branch of selection.selectionSet?.selections ?? []) {
          if (branch.kind !== Kind.INLINE_FRAGMENT || !branch.typeCondition) return false;
          const type = typeOf(branch.typeCondition.name.value);
          const hint = type && hints.type(type.name);
          if (!type || hint?.scope !== 'PUBLIC') return false;
          lower(hint);
          if (!walk(branch.selectionSet, type, false, seen)) return false;
        }
        continue;
      }
      if (!('getFields' in parent)) return false; // a union selects no fields but __typename
      const field = parent.getFields()[name];
      if (!field) return false;
      const named = getNamedType(field.type);
      const own = hints.field(parent.name, name);
      const typeHint = isCompositeType(named) ? hints.type(named.name) : undefined;
      if (own?.scope === 'PRIVATE' || typeHint?.scope === 'PRIVATE') return false;
      if (isRoot || isCompositeType(named)) {
        const hint = own ?? typeHint;
        const inherits = !isRoot && hint?.inheritMaxAge === true;
        if (!inherits && hint?.scope !== 'PUBLIC') return false;
      }
      lower(own);
      if (!own) lower(typeHint);
      if (selection.selectionSet && isCompositeType(named) && !walk(selection.selectionSet, named, false, seen)) return false;
    }
    return true;
  };

  if (!walk(operation.selectionSet, root, true, new Set())) return PRIVATE;
  return { isPublic: true, maxAge: Number.isFinite(maxAge) ? maxAge : 0 };
}
