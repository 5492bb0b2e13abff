import { parse, validate, type GraphQLSchema } from 'graphql';

/** An operation a client sent, from the trusted-documents manifest or the router's record. */
export interface KnownOperation {
  name: string | null;
  document: string;
  /** `manifest` or `recorded`. */
  source: string;
  /** Epoch ms, for recorded operations. */
  lastSeen?: number;
}

export interface BrokenOperation extends KnownOperation {
  /** Why the new schema refuses it (graphql-js validation messages). */
  errors: string[];
}

export interface OperationCheckResult {
  checked: number;
  /** Valid against the base schema and refused by the new one: clients that would break. */
  broken: BrokenOperation[];
  /** Already refused by the base schema (stale records, say): not this change's doing. */
  alreadyInvalid: number;
}

/** Replays known operations against the base and the new public schema. */
export function checkOperations(operations: readonly KnownOperation[], base: GraphQLSchema, next: GraphQLSchema): OperationCheckResult {
  const result: OperationCheckResult = { checked: 0, broken: [], alreadyInvalid: 0 };
  const seen = new Set<string>();
  for (const operation of operations) {
    if (seen.has(operation.document)) continue;
    seen.add(operation.document);
    result.checked++;
    let document;
    try {
      document = parse(operation.document, { noLocation: true });
    } catch {
      result.alreadyInvalid++;
      continue;
    }
    if (validate(base, document).length) {
      result.alreadyInvalid++;
      continue;
    }
    const errors = validate(next, document);
    if (errors.length) result.broken.push({ ...operation, errors: errors.map((e) => e.message) });
  }
  return result;
}
