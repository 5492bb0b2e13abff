import { join } from 'node:path';
import { PRINCIPAL_HEADER, signPrincipal } from '../../lib/principal.ts';
import { startAuditGateway, type GatewayExecutor } from './auditGateway.ts';
import type { AuditSuite } from './auditSuites.ts';
import { auditVerdict, type AuditVerdict } from './auditVerdict.ts';

/** One case's outcome on one executor. */
export interface AuditCaseResult extends AuditVerdict {
  /** The case's index in its suite: the audit names it `<suite>_<index>`. */
  index: number;
  query: string;
  /** The answer's errors (message, path, code), or why there was no answer, for the report. */
  errors: string[];
}

/** A suite's outcome on one executor. */
export interface AuditSuiteResult {
  suite: string;
  executor: GatewayExecutor;
  cases: AuditCaseResult[];
  /** Set when the suite could not run at all (its supergraph, or the gateway failed); every case then fails. */
  failure?: string;
  durationMs: number;
}

export interface RunAuditSuiteOptions {
  suite: AuditSuite;
  executor: GatewayExecutor;
  /** The bundled gateway entry. */
  gatewayEntry: string;
  /** Where the suite's subgraphs answer (serveAuditSubgraphs). */
  subgraphOrigin: string;
  /** A scratch folder for this run's topology, supergraph and log. */
  dir: string;
  secret: string;
  /** One case's deadline, as the audit's runner gives it. @default 10000 */
  caseTimeoutMs?: number;
}

/**
 * Runs one suite on one executor: composes its supergraph against the shared subgraph server, starts a
 * gateway process for it, sends each case in order (a suite's cases may share state, `mutations`
 * does), as the router would, with a signed anonymous principal, and stops the gateway.
 */
export async function runAuditSuite(options: RunAuditSuiteOptions): Promise<AuditSuiteResult> {
  const { suite, executor, gatewayEntry, subgraphOrigin, dir, secret, caseTimeoutMs = 10_000 } = options;
  const started = performance.now();
  const tests = await suite.tests();
  const failAll = (failure: string): AuditSuiteResult => ({
    suite: suite.id,
    executor,
    cases: tests.map((test, index) => ({ index, query: test.query, errors: [failure], ...auditVerdict(test.expected, undefined) })),
    failure,
    durationMs: performance.now() - started,
  });
  let gateway;
  try {
    gateway = await startAuditGateway({ entry: gatewayEntry, dir: join(dir, `${suite.id}-${executor}`), supergraphSdl: await suite.supergraphSdl(subgraphOrigin), executor, secret });
  } catch (error) {
    return failAll((error as Error).message);
  }
  try {
    const cases: AuditCaseResult[] = [];
    for (const [index, test] of tests.entries()) {
      let answer: { data?: unknown; errors?: Array<{ message?: string; path?: unknown[]; extensions?: { code?: string } }> } | undefined;
      let problem: string | undefined;
      try {
        const response = await fetch(gateway.url, {
          method: 'POST',
          headers: { accept: 'application/json', 'content-type': 'application/json', [PRINCIPAL_HEADER]: signPrincipal({ scopes: [] }, secret) },
          body: JSON.stringify({ query: test.query }),
          signal: AbortSignal.timeout(caseTimeoutMs),
        });
        const text = await response.text();
        try {
          answer = JSON.parse(text);
        } catch {
          problem = `HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`;
        }
      } catch (error) {
        problem = `no answer: ${(error as Error).message}`;
      }
      const errors = problem
        ? [problem]
        : (answer?.errors ?? []).map((e) => `${e.message}${e.path ? ` at ${e.path.join('.')}` : ''}${e.extensions?.code ? ` [${e.extensions.code}]` : ''}`);
      cases.push({ index, query: test.query, errors, ...auditVerdict(test.expected, answer) });
    }
    return { suite: suite.id, executor, cases, durationMs: performance.now() - started };
  } finally {
    await gateway.close();
  }
}
