import { readOptionalFile } from '../../lib/readOptionalFile.ts';
import YAML from 'yaml';
import { z } from 'zod';
import type { SchemaChange } from './schemaChanges.ts';

const entry = z.object({
  /** Which schema: a supergraph name (`identity`, `commerce`, `all`) or `public` (the router's). */
  schema: z.string().min(1),
  /** Inspector's change type, e.g. FIELD_REMOVED. */
  kind: z.string().min(1),
  /** Schema coordinate, e.g. `Query.legacyField`. */
  path: z.string().min(1),
  /** Why breaking clients is acceptable here (who agreed, which clients moved). */
  reason: z.string().min(10, 'say why, in a sentence'),
  /** Last day (YYYY-MM-DD) the acceptance holds; an expired one no longer excuses the change. */
  expires: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD'),
});
const file = z.object({ accepted: z.array(entry).nullable().default([]) });

export type AcceptedChange = z.infer<typeof entry>;

/** The committed list of breaking changes made on purpose. A missing file accepts nothing. */
export function loadAcceptedChanges(path: string): AcceptedChange[] {
  const text = readOptionalFile(path);
  if (text === undefined) return [];
  const parsed = file.safeParse(YAML.parse(text) ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`${path}:\n  ${problems.join('\n  ')}`);
  }
  return parsed.data.accepted ?? [];
}

/** The acceptance covering a change of one schema, if any, and whether it has expired on `today`. */
export function acceptanceOf(
  accepted: readonly AcceptedChange[],
  schema: string,
  change: SchemaChange,
  today: string,
): { entry: AcceptedChange; expired: boolean } | undefined {
  const found = accepted.find((a) => a.schema === schema && a.kind === change.kind && a.path === change.path);
  return found && { entry: found, expired: found.expires < today };
}
