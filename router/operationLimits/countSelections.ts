import { Kind, type FieldNode, type SelectionSetNode, type ValidationContext } from 'graphql';

/**
 * Counts over a selection set with fragments expanded the way execution would expand them: a
 * fragment spread twice counts twice (that is the work asked for). Memoised per fragment, so the
 * count itself stays linear however fragments nest; cycles (NoFragmentCyclesRule's to report) count 0.
 * `deep: false` counts only the top level (root fields), following fragments but not sub-selections.
 */
export function createSelectionCounter(context: ValidationContext, counts: (field: FieldNode) => number, deep = true) {
  const fragmentCounts = new Map<string, number>();
  const countSet = (selectionSet: SelectionSetNode, visiting: ReadonlySet<string>): number => {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        total += counts(selection);
        if (deep && selection.selectionSet) total += countSet(selection.selectionSet, visiting);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        total += countSet(selection.selectionSet, visiting);
      } else {
        const name = selection.name.value;
        const known = fragmentCounts.get(name);
        if (known !== undefined) {
          total += known;
          continue;
        }
        const fragment = context.getFragment(name);
        if (!fragment || visiting.has(name)) continue;
        const count = countSet(fragment.selectionSet, new Set([...visiting, name]));
        fragmentCounts.set(name, count);
        total += count;
      }
    }
    return total;
  };
  return (selectionSet: SelectionSetNode) => countSet(selectionSet, new Set());
}
