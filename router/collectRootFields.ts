import {
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  getDirectiveValues,
  type FragmentDefinitionNode,
  type FragmentSpreadNode,
  type FieldNode,
  type InlineFragmentNode,
  type SelectionSetNode,
} from 'graphql';

/** A root field as the client will see it in `data`. */
export interface RootField {
  /** Alias or field name: the key in `data`. */
  responseKey: string;
  fieldName: string;
}

/**
 * The root fields an operation executes, in the order graphql-js would execute them: fragments
 * flattened, `@skip`/`@include` evaluated against the (coerced) variables, one entry per response key.
 */
export function collectRootFields(
  selectionSet: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  variables: Record<string, unknown> = {},
): RootField[] {
  const fields = new Map<string, RootField>();
  const visitedFragments = new Set<string>();
  const walk = (set: SelectionSetNode): void => {
    for (const selection of set.selections) {
      if (!shouldInclude(selection, variables)) continue;
      if (selection.kind === Kind.FIELD) {
        const responseKey = selection.alias?.value ?? selection.name.value;
        if (!fields.has(responseKey)) fields.set(responseKey, { responseKey, fieldName: selection.name.value });
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        walk(selection.selectionSet);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (visitedFragments.has(name) || !fragment) continue;
        visitedFragments.add(name);
        walk(fragment.selectionSet);
      }
    }
  };
  walk(selectionSet);
  return [...fields.values()];
}

/** Whether `@skip`/`@include` let a selection through (graphql-js semantics). */
export function shouldInclude(
  node: FieldNode | InlineFragmentNode | FragmentSpreadNode,
  variables: Record<string, unknown>,
): boolean {
  const skip = getDirectiveValues(GraphQLSkipDirective, node, variables);
  if (skip?.if === true) return false;
  const include = getDirectiveValues(GraphQLIncludeDirective, node, variables);
  if (include?.if === false) return false;
  return true;
}
