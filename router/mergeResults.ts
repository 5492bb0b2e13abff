import type { ExecutionResult, GraphQLError } from 'graphql';
import { supergraphUnavailable, type FallbackExtension, type UpstreamFailure } from '../lib/errors.ts';
import type { GraphQLResponse } from '../lib/upstream/graphqlResponse.ts';
import type { RootField } from './collectRootFields.ts';
import { refusalOn } from './edge/supergraphPolicies.ts';
import { relayGatewayError } from './relayGatewayError.ts';

/** How one sub-operation ended: answered by its gateway, failed, or answered by a fallback in its place. */
export type PartOutcome = {
  supergraph: string;
  /** Root response keys this part answers. */
  responseKeys: readonly string[];
  /** The client's query text when it was sent unchanged, so relayed error locations stay valid. */
  passthroughSource?: string;
} & (
  | { kind: 'answered'; result: GraphQLResponse; /** Its bytes, when clean (see GatewayOutcome). */ raw?: string }
  | { kind: 'failed'; failure: UpstreamFailure }
  | { kind: 'fallback'; failure: UpstreamFailure; data: unknown; fallback: FallbackExtension }
  /** Its supergraph's policy refused it (auth, limits, rate plan): never sent, answered like a failed part. */
  | { kind: 'refused'; error: GraphQLError }
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
 * its own root keys and adds one error per key; a part a fallback answered keeps the fallback's data
 * with one error per key saying so; gateway errors are relayed, sanitised.
 */
export function mergeResults(input: MergeInput): ExecutionResult {
  const values = new Map<string, unknown>();
  const errors: GraphQLError[] = [];

  for (const part of input.parts) {
    if (part.kind === 'refused') {
      for (const key of part.responseKeys) {
        values.set(key, null);
        errors.push(refusalOn(part.error, key));
      }
      continue;
    }
    if (part.kind !== 'answered') {
      const data = part.kind === 'fallback' ? asRecord(part.data) : undefined;
      const fallback = part.kind === 'fallback' ? part.fallback : undefined;
      for (const key of part.responseKeys) {
        values.set(key, data && Object.hasOwn(data, key) ? data[key] : null);
        errors.push(supergraphUnavailable(part.supergraph, [key], part.failure, fallback));
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

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
