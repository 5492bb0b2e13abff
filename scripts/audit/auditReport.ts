import type { GatewayExecutor } from './auditGateway.ts';
import type { AuditCaseResult, AuditSuiteResult } from './runAuditSuite.ts';

/** A case ours fails and Apollo's passes: what issue 19 forbids. */
export interface ExecutorGap {
  suite: string;
  own: AuditCaseResult;
}

/** Cases our executor fails that Apollo's passes, in suite order. */
export function executorGaps(results: readonly AuditSuiteResult[]): ExecutorGap[] {
  const apollo = new Map(results.filter((r) => r.executor === 'apollo').map((r) => [r.suite, r]));
  return results
    .filter((r) => r.executor === 'own')
    .flatMap((own) => own.cases.filter((c) => !c.passed && apollo.get(own.suite)?.cases[c.index]?.passed).map((c) => ({ suite: own.suite, own: c })));
}

const passedOf = (result: AuditSuiteResult | undefined) => (result ? result.cases.filter((c) => c.passed).length : 0);

/** The table: one row per suite, `passed/total` per executor, then the totals. */
export function formatAuditTable(suites: readonly string[], executors: readonly GatewayExecutor[], results: readonly AuditSuiteResult[]): string {
  const byKey = new Map(results.map((r) => [`${r.suite} ${r.executor}`, r]));
  const width = Math.max(5, ...suites.map((s) => s.length));
  const cell = (result: AuditSuiteResult | undefined) => (result ? `${passedOf(result)}/${result.cases.length}`.padStart(9) : '        -');
  const lines = [`${'suite'.padEnd(width)}  ${executors.map((e) => e.padStart(9)).join('  ')}`];
  for (const suite of suites) {
    const row = executors.map((e) => byKey.get(`${suite} ${e}`));
    const mark = row.some((r) => r && passedOf(r) < r.cases.length) ? '  ✗' : '';
    lines.push(`${suite.padEnd(width)}  ${row.map(cell).join('  ')}${mark}`);
  }
  const totals = executors.map((e) => {
    const mine = results.filter((r) => r.executor === e);
    return `${mine.reduce((n, r) => n + passedOf(r), 0)}/${mine.reduce((n, r) => n + r.cases.length, 0)}`.padStart(9);
  });
  lines.push(`${'total'.padEnd(width)}  ${totals.join('  ')}`);
  return lines.join('\n');
}

/** One failing case, in enough detail to act on: the query, both sides as compared, the errors. */
export function formatFailedCase(suite: string, executor: GatewayExecutor, c: AuditCaseResult): string {
  const indent = (text: string) => text.split('\n').map((line) => `      ${line}`).join('\n');
  return [
    `  ${suite}_${c.index} (${executor})`,
    `    query:\n${indent(c.query.replace(/^\s*\n|\s+$/g, '').replace(/^ {6}/gm, ''))}`,
    `    expected: ${JSON.stringify(c.expected)}`,
    `    received: ${JSON.stringify(c.received)}`,
    ...(c.errors.length ? [`    errors:   ${c.errors.slice(0, 5).join('\n              ')}${c.errors.length > 5 ? `\n              … ${c.errors.length - 5} more` : ''}`] : []),
  ].join('\n');
}
