import type { FetchDataRewrite } from '@apollo/query-planner';
import type { TypeConditions } from './typeConditions.ts';

/** Applies a fetch's rewrites to one value (a representation before sending, an answer after). */
export type Rewrite = (value: unknown) => void;

const FRAGMENT_PREFIX = '... on ';

type PathStep = { kind: 'field'; name: string } | { kind: 'type'; name: string };

/**
 * Compiles a fetch's input or output rewrites once per plan, with @apollo/gateway's semantics: each
 * rewrite's path is walked through lists, fields and `... on Type` conditions (an object without
 * `__typename` passes a condition), and its last element is set to a value (`ValueSetter`, e.g. the
 * interface's `__typename` an @interfaceObject subgraph expects) or renamed (`KeyRenamer`, aliased
 * answers put back under their field's name).
 */
export function compileRewrites(rewrites: readonly FetchDataRewrite[] | undefined, types: TypeConditions): Rewrite | undefined {
  if (!rewrites?.length) return undefined;
  const compiled = rewrites.flatMap((rewrite) => {
    if (rewrite.path.length === 0) return [];
    const steps: PathStep[] = rewrite.path.slice(0, -1).map((element) =>
      element.startsWith(FRAGMENT_PREFIX) ? { kind: 'type', name: element.slice(FRAGMENT_PREFIX.length) } : { kind: 'field', name: element },
    );
    const last = rewrite.path[rewrite.path.length - 1];
    if (last.startsWith(FRAGMENT_PREFIX)) throw new Error(`Unexpected fragment as last element of ${rewrite.path}`);
    const apply =
      rewrite.kind === 'ValueSetter'
        ? (object: Record<string, unknown>) => {
            object[last] = rewrite.setValueTo;
          }
        : (object: Record<string, unknown>) => {
            const value = Object.hasOwn(object, last) ? object[last] : undefined;
            if (value) {
              object[rewrite.renameKeyTo] = value;
              object[last] = undefined;
            }
          };
    return [{ steps, apply }];
  });
  const walk = (value: unknown, steps: PathStep[], at: number, apply: (object: Record<string, unknown>) => void): void => {
    if (Array.isArray(value)) {
      for (const element of value) walk(element, steps, at, apply);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const object = value as Record<string, unknown>;
    if (at === steps.length) return apply(object);
    const step = steps[at];
    if (step.kind === 'field') walk(Object.hasOwn(object, step.name) ? object[step.name] : undefined, steps, at + 1, apply);
    else if (types.objectMatches(object.__typename, step.name, true)) walk(object, steps, at + 1, apply);
  };
  return (value) => {
    for (const { steps, apply } of compiled) walk(value, steps, 0, apply);
  };
}
