import {
  Kind,
  type ASTVisitor,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { ErrorCode, operationLimitExceeded } from '../../lib/errors.ts';

/**
 * Refuses operations nested deeper than `maxDepth` (`{ a }` is 1, `{ a { b } }` is 2) during
 * validation, answering 400 MAX_DEPTH_LIMIT. Root `__schema` / `__type` fields get
 * `introspectionMaxDepth`: GraphiQL's introspection query is 14 deep, so a small `maxDepth` must not
 * lock the schema explorer out, yet introspection stays bounded.
 */
export function maxDepthRule(maxDepth: number, introspectionMaxDepth = Math.max(maxDepth, 15)): ValidationRule {
  // Named: yoga's validation cache keys on the rules' names.
  return function MaxDepthRule(context: ValidationContext): ASTVisitor {
    // Memoised per fragment: without it, fragments spreading fragments twice over would make this
    // check itself exponential.
    const fragmentDepths = new Map<string, number>();

    const depthOf = (selectionSet: SelectionSetNode, visiting: ReadonlySet<string>): number => {
      let max = 0;
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) {
          max = Math.max(max, 1 + (selection.selectionSet ? depthOf(selection.selectionSet, visiting) : 0));
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          max = Math.max(max, depthOf(selection.selectionSet, visiting));
        } else {
          max = Math.max(max, fragmentDepth(selection.name.value, visiting));
        }
      }
      return max;
    };
    const fragmentDepth = (name: string, visiting: ReadonlySet<string>): number => {
      const known = fragmentDepths.get(name);
      if (known !== undefined) return known;
      const fragment = context.getFragment(name);
      // Cycles are NoFragmentCyclesRule's to report; count them as flat here.
      if (!fragment || visiting.has(name)) return 0;
      const depth = depthOf(fragment.selectionSet, new Set([...visiting, name]));
      fragmentDepths.set(name, depth);
      return depth;
    };
    const rootDepths = (selectionSet: SelectionSetNode, visiting: ReadonlySet<string>, out: { data: number; introspection: number; walked: Set<string> }): void => {
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) {
          const depth = 1 + (selection.selectionSet ? depthOf(selection.selectionSet, visiting) : 0);
          const introspection = selection.name.value === '__schema' || selection.name.value === '__type';
          if (introspection) out.introspection = Math.max(out.introspection, depth);
          else out.data = Math.max(out.data, depth);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          rootDepths(selection.selectionSet, visiting, out);
        } else {
          // Once per fragment: a fragment's root fields are as deep wherever it is spread, and
          // walking it at every spread would be exponential (F0 spreads F1 twice, F1 F2 twice, ...).
          const name = selection.name.value;
          const fragment = context.getFragment(name);
          if (fragment && !visiting.has(name) && !out.walked.has(name)) {
            out.walked.add(name);
            rootDepths(fragment.selectionSet, new Set([...visiting, name]), out);
          }
        }
      }
    };

    return {
      OperationDefinition(node) {
        const depths = { data: 0, introspection: 0, walked: new Set<string>() };
        rootDepths(node.selectionSet, new Set(), depths);
        const [depth, limit] = depths.introspection > introspectionMaxDepth
          ? [depths.introspection, introspectionMaxDepth]
          : [depths.data, maxDepth];
        if (depth <= limit) return;
        context.reportError(
          operationLimitExceeded(ErrorCode.MAX_DEPTH_LIMIT, `The operation is ${depth} levels deep; at most ${limit} are allowed.`, { limit, actual: depth }, node),
        );
      },
    };
  };
}
