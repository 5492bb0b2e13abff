import { describe, expect, it } from 'vitest';
import { compareWithBaseline, type ApolloBaseline } from '../../../scripts/audit/apolloBaseline.ts';
import { executorGaps } from '../../../scripts/audit/auditReport.ts';
import { auditVerdict } from '../../../scripts/audit/auditVerdict.ts';
import type { AuditSuiteResult } from '../../../scripts/audit/runAuditSuite.ts';

describe('auditVerdict: the audit runner’s comparison', () => {
  it('compares data deeply, whatever the key order, and ignores errors the case says nothing about', () => {
    const expected = { data: { user: { id: '1', name: 'a' } } };
    expect(auditVerdict(expected, { data: { user: { name: 'a', id: '1' } }, errors: [{ message: 'x' }] }).passed).toBe(true);
    expect(auditVerdict(expected, { data: { user: { id: '1', name: 'b' } } }).passed).toBe(false);
    // Strict: 1 is not "1".
    expect(auditVerdict({ data: { n: 1 } }, { data: { n: '1' } }).passed).toBe(false);
  });

  it('compares whether there were errors when the case says true or false', () => {
    expect(auditVerdict({ data: null, errors: true }, { data: null, errors: [{ message: 'boom' }] }).passed).toBe(true);
    expect(auditVerdict({ data: null, errors: true }, { data: null }).passed).toBe(false);
    expect(auditVerdict({ data: { a: 1 }, errors: false }, { data: { a: 1 }, errors: [] }).passed).toBe(true);
    expect(auditVerdict({ data: { a: 1 }, errors: false }, { data: { a: 1 }, errors: [{ message: 'x' }] }).passed).toBe(false);
  });

  it('takes missing data as null, and no answer at all as a failure', () => {
    expect(auditVerdict({ errors: true }, { errors: [{ message: 'x' }] }).passed).toBe(true);
    expect(auditVerdict({ data: null }, undefined).passed).toBe(false);
  });
});

const result = (suite: string, executor: 'own' | 'apollo', passed: boolean[]): AuditSuiteResult => ({
  suite,
  executor,
  durationMs: 0,
  cases: passed.map((p, index) => ({ index, query: '{ a }', errors: [], passed: p, expected: { data: null, errors: null }, received: { data: null, errors: null } })),
});

describe('what fails a run', () => {
  it('lists the cases ours fails and Apollo’s passes, and no others', () => {
    const gaps = executorGaps([result('s', 'own', [true, false, false]), result('s', 'apollo', [true, true, false]), result('t', 'own', [false])]);
    expect(gaps.map((g) => `${g.suite}_${g.own.index}`)).toEqual(['s_1']);
  });

  it('compares Apollo’s results with its baseline case by case, so a fix cannot hide a regression', () => {
    const baseline: ApolloBaseline = {
      audit: 'abc',
      recordedAt: '2026-01-01',
      suites: { s: { passed: 2, total: 3, failing: [2] }, changed: { passed: 1, total: 1, failing: [] } },
    };
    const comparison = compareWithBaseline(
      [result('s', 'apollo', [false, true, true]), result('changed', 'apollo', [true, true]), result('new', 'apollo', [true]), result('s', 'own', [false, false, false])],
      baseline,
    );
    expect(comparison.regressions).toEqual([{ suite: 's', index: 0 }]);
    expect(comparison.improvements).toEqual([{ suite: 's', index: 2 }]);
    expect(comparison.unknown).toEqual(['changed', 'new']);
  });
});
