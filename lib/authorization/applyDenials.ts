import type { ExecutionResult, GraphQLError } from 'graphql';
import { unauthorizedFieldOrType } from '../errors.ts';
import { PROBE_KEY, type AuthorizedOperation, type DeniedField } from './authorizeOperation.ts';

type Data = Record<string, unknown>;

/**
 * Completes an answer to an operation authorizeOperation filtered: each denied field is set to null
 * where the answer would have held it (a null in a non-null place goes up to the nearest nullable
 * one, as graphql-js completes values), and gets an UNAUTHORIZED_FIELD_OR_TYPE error on its path.
 * The type probes the filter added are removed. Changes `data` in place and returns it (null when a
 * denial reached a non-null root).
 */
export function applyDenials(data: Data | null | undefined, authorized: Pick<AuthorizedOperation, 'denied' | 'probes'>): { data: Data | null | undefined; errors: GraphQLError[] } {
  if (!authorized.denied.length) return { data, errors: [] };
  let result: Data | null | undefined = data;
  for (const denial of authorized.denied) {
    if (result && nullOut(result, denial, 0)) result = null;
  }
  if (result) for (const probe of authorized.probes) stripProbe(result, probe, 0);
  return { data: result, errors: authorized.denied.map((d) => unauthorizedFieldOrType([...d.path])) };
}

/** A result of an operation fields were taken out of: those fields null, with their errors after the result's own. */
export function withDenials(result: ExecutionResult, authorized: Pick<AuthorizedOperation, 'denied' | 'probes'>): ExecutionResult {
  if (!('data' in result)) return result;
  const { data, errors } = applyDenials(result.data as Data | null | undefined, authorized);
  return { ...result, data, errors: [...(result.errors ?? []), ...errors] };
}

/** Sets the denied field to null under `value` (the object or list at depth `i`); true when `value` itself must then be null. */
function nullOut(value: unknown, denial: DeniedField, i: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  const key = denial.path[i];
  const last = i === denial.path.length - 1;
  if (key === '@') {
    if (!Array.isArray(value)) return false;
    for (let j = 0; j < value.length; j++) {
      if (nullOut(value[j], denial, i + 1)) {
        if (denial.nonNull[i]) return true;
        value[j] = null;
      }
    }
    return false;
  }
  const object = value as Data;
  if (last) {
    // In a narrower fragment, only the objects of its types have the field.
    if (denial.onTypes && !denial.onTypes.includes(object[PROBE_KEY] as string)) return false;
    object[key] = null;
    return denial.nonNull[i];
  }
  if (!(key in object)) return false;
  if (nullOut(object[key], denial, i + 1)) {
    if (denial.nonNull[i]) return true;
    object[key] = null;
  }
  return false;
}

function stripProbe(value: unknown, path: readonly string[], i: number): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) stripProbe(item, path, path[i] === '@' ? i + 1 : i);
    return;
  }
  if (i === path.length) {
    delete (value as Data)[PROBE_KEY];
    return;
  }
  stripProbe((value as Data)[path[i]], path, i + 1);
}
