/** Label of an operation without a name. */
export const ANONYMOUS_OPERATION = '(anonymous)';
/** Label of names past the cap, and of names that are not GraphQL names. */
export const OTHER_OPERATION = '(other)';
/** Label of a request refused or failed before its operation was known (and that sent no `operationName`). */
export const UNKNOWN_OPERATION = '(unknown)';

/**
 * Operation names as metric labels, with bounded cardinality: names come from clients, so the first
 * `max` distinct names keep their own label and every later one is folded into `(other)`; a name
 * that is not a GraphQL name (a client sent garbage in `operationName`) never becomes a label.
 */
export function createOperationLabels(max: number): (name: string | null | undefined) => string {
  const known = new Set<string>();
  return (name) => {
    if (name === undefined) return UNKNOWN_OPERATION;
    if (!name) return ANONYMOUS_OPERATION;
    if (known.has(name)) return name;
    if (known.size >= max || !/^[_A-Za-z][_0-9A-Za-z]{0,127}$/.test(name)) return OTHER_OPERATION;
    known.add(name);
    return name;
  };
}
