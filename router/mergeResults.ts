import type { ExecutionResult, GraphQLError } from 'graphql';
import { supergraphUnavailable, type FailureReason } from '../lib/errors.ts';
import type { RootField } from './collectRootFields.ts';
import { relayGatewayError, type WireError } from './relayGatewayError.ts';

/** What a gateway answered (already parsed JSON). */
export interface GatewayResult {
  data?: Record<string, unknown> | null;
  errors?: ReadonlyArray<WireError>;
}

/** How one sub-operation ended. */
export type PartOutcome = {
  supergraph: string;
  /** Root response keys this part answers. */
  responseKeys: readonly string[];
  /** The client's query text when it was sent unchanged, so relayed error locations stay valid. */
  passthroughSource?: string;
} & (
  | { ok: true; result: GatewayResult }
  | { ok: false; reason: FailureReason; attempts: number }
);

export interface MergeInput {
  /** The client's root fields, in its order. */
  rootFields: readonly RootField[];
  parts: readonly PartOutcome[];
  /** The router's own answer for root `__typename` / introspection. */
  local?: { responseKeys: readonly string[]; result: ExecutionResult };
  /** Request-level errors to append (e.g. authentication could not be checked). */
  extraErrors?: readonly GraphQLError[];
}

/**
 * Merges the parts' answers into one result in the client's field order. A failed part nulls only
 * its own root keys and adds one error per key; gateway errors are relayed, sanitised.
 */
export function mergeResults(input: MergeInput): ExecutionResult {
  const values = new Map<string, unknown>();
  const errors: GraphQLError[] = [];

  for (const part of input.parts) {
    if (!part.ok) {
      for (const key of part.responseKeys) {
        values.set(key, null);
        errors.push(supergraphUnavailable(part.supergraph, [key], part.reason, part.attempts));
      }
      continue;
    }
    const data = part.result.data;
    for (const key of part.responseKeys) {
      // A gateway that answered `data: null` (non-null propagation, validation) nulls its keys only.
      values.set(key, data && Object.hasOwn(data, key) ? data[key] : null);
    }
    for (const wire of part.result.errors ?? []) {
      errors.push(relayGatewayError(wire, { supergraph: part.supergraph, source: part.passthroughSource }));
    }
  }

  if (input.local) {
    const data = input.local.result.data as Record<string, unknown> | null | undefined;
    for (const key of input.local.responseKeys) values.set(key, data && Object.hasOwn(data, key) ? data[key] : null);
    errors.push(...(input.local.result.errors ?? []));
  }
  errors.push(...(input.extraErrors ?? []));

  const data: Record<string, unknown> = {};
  for (const field of input.rootFields) data[field.responseKey] = values.has(field.responseKey) ? values.get(field.responseKey) : null;
  return errors.length ? { data, errors } : { data };
}
