import { CriticalityLevel, diff, type Change } from '@graphql-inspector/core';
import type { GraphQLSchema } from 'graphql';

export type Severity = 'breaking' | 'dangerous' | 'safe';

/** One difference between two schemas, as GraphQL Inspector classifies it. */
export interface SchemaChange {
  /** Inspector's change type, e.g. FIELD_REMOVED, FIELD_ARGUMENT_ADDED. */
  kind: string;
  severity: Severity;
  /** Schema coordinate, e.g. `Query.article.id`. */
  path: string;
  message: string;
  /** Why Inspector judged it so, when it says. */
  reason?: string;
}

const SEVERITY: Record<CriticalityLevel, Severity> = {
  [CriticalityLevel.Breaking]: 'breaking',
  [CriticalityLevel.Dangerous]: 'dangerous',
  [CriticalityLevel.NonBreaking]: 'safe',
};
const ORDER: Record<Severity, number> = { breaking: 0, dangerous: 1, safe: 2 };

/** Every change from `base` to `next`, breaking first (GraphQL Inspector's `diff`). */
export async function schemaChanges(base: GraphQLSchema, next: GraphQLSchema): Promise<SchemaChange[]> {
  const changes: Change[] = await diff(base, next);
  return changes
    .map((change) => ({
      kind: String(change.type),
      severity: SEVERITY[change.criticality.level],
      path: change.path ?? '',
      message: change.message,
      reason: change.criticality.reason,
    }))
    .sort((a, b) => ORDER[a.severity] - ORDER[b.severity] || a.path.localeCompare(b.path));
}
