import { isDeepStrictEqual } from 'node:util';
import type { AuditTestCase } from './auditSuites.ts';

/** What a case compares: the data, and whether there were errors when the case says whether to expect them. */
export interface ComparedAnswer {
  data: unknown;
  /** null: the case does not say, so errors are not compared. */
  errors: boolean | null;
}

/** A case's outcome: passed, and both sides as they were compared. */
export interface AuditVerdict {
  passed: boolean;
  expected: ComparedAnswer;
  received: ComparedAnswer;
}

/**
 * Compares an answer with a case the way the audit's runner does (its src/test.ts): `data` deeply and
 * strictly equal (missing is null), and `errors` only when the case says true or false, as "the answer
 * has at least one error". Messages, paths and extensions are never compared, nor the HTTP status.
 */
export function auditVerdict(expected: AuditTestCase['expected'], answer: { data?: unknown; errors?: unknown[] } | undefined): AuditVerdict {
  const errorsCompared = typeof expected.errors === 'boolean';
  const want: ComparedAnswer = { data: expected.data ?? null, errors: errorsCompared ? expected.errors! : null };
  const got: ComparedAnswer = { data: answer?.data ?? null, errors: errorsCompared ? Boolean(answer?.errors?.length) : null };
  return { passed: answer !== undefined && isDeepStrictEqual(got, want), expected: want, received: got };
}
