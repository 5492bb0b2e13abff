import { PRINCIPAL_HEADER, signPrincipal } from '../../lib/principal.ts';
import type { GatewayExecutor } from './auditGateway.ts';
import type { AuditGatewayLane } from './auditGatewayLane.ts';
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
  /** The suite's supergraph, its subgraphs where the worker's slot serves them; the error when it did not compose. */
  supergraphSdl: string | Error;
  /** Where the gateway for this executor comes from. */
  gateways: AuditGatewayLane;
  secret: string;
  /** One case's deadline, as the audit's runner gives it. @default 10000 */
  caseTimeoutMs?: number;
}

/**
 * Runs one suite on one executor: has a gateway serve its supergraph, then sends each case in order (a
 * suite's cases may share state, `mutations` does) as the router would, with a signed anonymous principal.
 */
export async function runAuditSuite(options: RunAuditSuiteOptions): Promise<AuditSuiteResult> {
  const { suite, executor, supergraphSdl, gateways, secret, caseTimeoutMs = 10_000 } = options;
  const started = performance.now();
  const tests = await suite.tests();
  const failAll = (failure: string): AuditSuiteResult => ({
    suite: suite.id,
    executor,
    cases: tests.map((test, index) => ({ index, query: test.query, errors: [failure], ...auditVerdict(test.expected, undefined) })),
    failure,
    durationMs: performance.now() - started,
  });
  if (supergraphSdl instanceof Error) return failAll(`the supergraph did not compose: ${supergraphSdl.message}`);
  let gateway;
  try {
    gateway = await gateways.gatewayFor(supergraphSdl);
  } catch (error) {
    return failAll((error as Error).message);
  }
  const cases: AuditCaseResult[] = [];
  for (const [index, test] of tests.entries()) {
    // The router signs the principal itself (auth is off: anonymous); a gateway answers only signed requests.
    const headers: Record<string, string> = gateway.throughRouter ? {} : { [PRINCIPAL_HEADER]: signPrincipal({ scopes: [] }, secret) };
    const { answer, problem } = await sendCase(gateway.url, test.query, headers, caseTimeoutMs);
    const errors = problem
      ? [problem]
      : (answer?.errors ?? []).map((e) => {
          const { code, reason } = e.extensions ?? {};
          return `${e.message}${e.path ? ` at ${e.path.join('.')}` : ''}${code ? ` [${[code, reason].filter(Boolean).join(' ')}]` : ''}`;
        });
    cases.push({ index, query: test.query, errors, ...auditVerdict(test.expected, answer) });
  }
  return { suite: suite.id, executor, cases, durationMs: performance.now() - started };
}

type Answer = { data?: unknown; errors?: Array<{ message?: string; path?: unknown[]; extensions?: { code?: string; reason?: string } }> };

/** POSTs one case as the audit's runner does (JSON, `accept: application/json`, its deadline); the status is not judged, the body is. */
async function sendCase(url: string, query: string, headers: Record<string, string>, timeoutMs: number): Promise<{ answer?: Answer; problem?: string }> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    try {
      return { answer: JSON.parse(text) as Answer };
    } catch {
      return { problem: `HTTP ${response.status}, not JSON: ${text.slice(0, 200)}` };
    }
  } catch (error) {
    return { problem: `no answer: ${(error as Error).message}` };
  }
}
