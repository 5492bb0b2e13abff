import type { QueryPlanSelectionNode } from '@apollo/query-planner';
import { mergeAnswer } from './mergeAnswer.ts';
import type { TypeConditions } from './typeConditions.ts';

/** Extracts one entity's representation for an `_entities` fetch; null when it lacks an input. */
export type RepresentationOf = (entity: Record<string, unknown>) => Record<string, unknown> | null;

type Step =
  | { kind: 'field'; key: string; inner: Step[] | undefined }
  | { kind: 'fragment'; typeCondition: string; inner: Step[] };

/**
 * Compiles a fetch's `requires` (the keys and `@requires` fields its subgraph needs) once per plan into
 * an extractor with @apollo/gateway's semantics: every required field must be present (a missing one,
 * which an earlier failed fetch left out, drops the entity), lists are walked, and an inline fragment
 * applies only to objects whose `__typename` matches it (against the supergraph schema, which knows
 * @inaccessible types: representations go to subgraphs, never to clients).
 */
export function compileRepresentation(requires: readonly QueryPlanSelectionNode[], types: TypeConditions): RepresentationOf {
  const compile = (selections: readonly QueryPlanSelectionNode[]): Step[] =>
    selections.flatMap((s): Step[] => {
      if (s.kind === 'Field') return [{ kind: 'field', key: s.alias ?? s.name, inner: s.selections ? compile(s.selections) : undefined }];
      // Apollo skips a fragment without a type condition.
      return s.typeCondition ? [{ kind: 'fragment', typeCondition: s.typeCondition, inner: compile(s.selections) }] : [];
    });
  const steps = compile(requires);

  const select = (source: Record<string, unknown> | null, selection: Step[]): Record<string, unknown> | null => {
    if (source === null) return null;
    const result: Record<string, unknown> = {};
    for (const step of selection) {
      if (step.kind === 'field') {
        const value = Object.hasOwn(source, step.key) ? source[step.key] : undefined;
        if (value === undefined) return null;
        if (Array.isArray(value)) {
          result[step.key] = step.inner ? value.map((v) => select(v as Record<string, unknown> | null, step.inner!)) : value;
        } else if (step.inner) {
          result[step.key] = select(value as Record<string, unknown> | null, step.inner);
        } else {
          result[step.key] = value;
        }
      } else if (types.objectMatches(source.__typename, step.typeCondition, false)) {
        mergeAnswer(result, select(source, step.inner));
      }
    }
    return result;
  };
  return (entity) => select(entity, steps);
}
