import { readFileSync, writeFileSync } from 'node:fs';
import type { AuditSuiteResult } from './runAuditSuite.ts';

/** Where the Apollo executor's recorded results live (committed: numbers we measured, none of the audit's code). */
export const APOLLO_BASELINE_FILE = new URL('./apolloBaseline.json', import.meta.url);

/** Apollo's executor behind our gateway, as last recorded: per suite, the cases it passed. */
export interface ApolloBaseline {
  /** The audit commit the numbers were measured on. */
  audit: string;
  recordedAt: string;
  suites: Record<string, { passed: number; total: number; /** Indexes of the cases it failed. */ failing: number[] }>;
}

/** What a run of Apollo's executor says against the baseline. */
export interface BaselineComparison {
  /** Cases the baseline passed and this run failed. */
  regressions: Array<{ suite: string; index: number }>;
  /** Cases the baseline failed and this run passed (record a new baseline). */
  improvements: Array<{ suite: string; index: number }>;
  /** Suites the baseline does not know, or knows with another number of cases: not compared. */
  unknown: string[];
}

/** The recorded baseline, or undefined when none was recorded. */
export function readApolloBaseline(): ApolloBaseline | undefined {
  try {
    return JSON.parse(readFileSync(APOLLO_BASELINE_FILE, 'utf8')) as ApolloBaseline;
  } catch {
    return undefined;
  }
}

/** Records Apollo's results of a run of every suite as the new baseline. */
export function writeApolloBaseline(results: readonly AuditSuiteResult[], audit: string): ApolloBaseline {
  const suites = Object.fromEntries(
    results
      .filter((r) => r.executor === 'apollo')
      .sort((a, b) => a.suite.localeCompare(b.suite))
      .map((r) => [r.suite, { passed: r.cases.filter((c) => c.passed).length, total: r.cases.length, failing: r.cases.filter((c) => !c.passed).map((c) => c.index) }]),
  );
  const baseline: ApolloBaseline = { audit, recordedAt: new Date().toISOString().slice(0, 10), suites };
  // One line per suite, so a change of the baseline reads as a diff of the suites that changed.
  const lines = Object.entries(suites).map(([id, s]) => `    ${JSON.stringify(id)}: ${JSON.stringify(s)}`);
  writeFileSync(
    APOLLO_BASELINE_FILE,
    `{\n  "audit": ${JSON.stringify(baseline.audit)},\n  "recordedAt": ${JSON.stringify(baseline.recordedAt)},\n  "suites": {\n${lines.join(',\n')}\n  }\n}\n`,
  );
  return baseline;
}

/**
 * Compares Apollo's results case by case, not by count, so a case newly passing cannot hide another
 * newly failing in the same suite.
 */
export function compareWithBaseline(results: readonly AuditSuiteResult[], baseline: ApolloBaseline): BaselineComparison {
  const comparison: BaselineComparison = { regressions: [], improvements: [], unknown: [] };
  for (const result of results.filter((r) => r.executor === 'apollo')) {
    const recorded = baseline.suites[result.suite];
    if (!recorded || recorded.total !== result.cases.length) {
      comparison.unknown.push(result.suite);
      continue;
    }
    for (const c of result.cases) {
      const failedBefore = recorded.failing.includes(c.index);
      if (!c.passed && !failedBefore) comparison.regressions.push({ suite: result.suite, index: c.index });
      if (c.passed && failedBefore) comparison.improvements.push({ suite: result.suite, index: c.index });
    }
  }
  return comparison;
}
