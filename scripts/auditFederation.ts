import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildBundles } from './buildBundles.ts';
import { compareWithBaseline, readApolloBaseline, writeApolloBaseline } from './audit/apolloBaseline.ts';
import { AuditCheckoutMissing, openAuditCheckout } from './audit/auditCheckout.ts';
import type { GatewayExecutor } from './audit/auditGateway.ts';
import { executorGaps, formatAuditTable, formatFailedCase } from './audit/auditReport.ts';
import { listAuditSuiteIds, loadAuditSuite } from './audit/auditSuites.ts';
import { availableExecutors } from './audit/gatewayExecutors.ts';
import { runAudit } from './audit/runAudit.ts';
import type { AuditSuiteResult } from './audit/runAuditSuite.ts';

// `npm run audit:federation`: The Guild's federation gateway audit against our gateway, on our
// executor and on Apollo's (issue 19). Exit codes: 0 passed; 1 our executor fails a case Apollo's
// passes, or Apollo's fails a case its recorded baseline passed; 2 bad usage; 3 no audit checkout.
const USAGE = `usage: npm run audit:federation -- [--executor own|apollo|both] [--suite <id>]... [--concurrency <n>] [--through gateway|router] [--gateway-per-suite] [--verbose] [--write-baseline]
  AUDIT_DIR   a work tree or bare git clone of graphql-hive/federation-gateway-audit (default: the machine's snapshot)`;
/** The checkout is absent: distinct, so CI can say so loudly instead of failing the build. */
const AUDIT_MISSING_EXIT_CODE = 3;

function usageError(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      executor: { type: 'string', default: 'both' },
      suite: { type: 'string', multiple: true },
      concurrency: { type: 'string', default: String(Math.min(2, availableParallelism())) },
      verbose: { type: 'boolean', default: false },
      'write-baseline': { type: 'boolean', default: false },
      'gateway-per-suite': { type: 'boolean', default: false },
      through: { type: 'string', default: 'gateway' },
      help: { type: 'boolean', default: false },
    },
  }).values;
} catch (error) {
  usageError((error as Error).message);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
if (!['gateway', 'router'].includes(args.through)) usageError(`--through must be gateway or router, not "${args.through}"`);
if (!['own', 'apollo', 'both'].includes(args.executor)) usageError(`--executor must be own, apollo or both, not "${args.executor}"`);
const concurrency = Number(args.concurrency);
if (!Number.isInteger(concurrency) || concurrency < 1) usageError(`--concurrency must be a positive integer, not "${args.concurrency}"`);

const available = availableExecutors();
const requested: GatewayExecutor[] = args.executor === 'both' ? ['own', 'apollo'] : [args.executor as GatewayExecutor];
const executors = requested.filter((e) => available.includes(e));
if (executors.length === 0) usageError(`this checkout's gateway has no executor of its own yet (no GATEWAY_EXECUTOR setting): run --executor apollo`);
if (requested.includes('own') && !available.includes('own')) {
  console.log(`Our executor is not in this checkout (no GATEWAY_EXECUTOR setting): Apollo's executor alone, checked against its baseline.\n`);
}
if (args['write-baseline'] && (args.suite || !executors.includes('apollo') || args.through !== 'gateway')) {
  usageError('--write-baseline records Apollo’s executor on every suite, straight to the gateway: drop --suite and --through, run it with apollo');
}

let checkout;
try {
  checkout = openAuditCheckout();
} catch (error) {
  if (!(error instanceof AuditCheckoutMissing)) throw error;
  console.error(`federation audit NOT RUN: ${error.message}`);
  process.exit(AUDIT_MISSING_EXIT_CODE);
}

const allIds = listAuditSuiteIds(checkout.sourceDir);
const unknown = (args.suite ?? []).filter((id) => !allIds.includes(id));
if (unknown.length) {
  checkout.close();
  usageError(`no audit suite ${unknown.join(', ')}; the suites are:\n  ${allIds.join('\n  ')}`);
}
const ids = args.suite?.length ? allIds.filter((id) => args.suite!.includes(id)) : allIds;

const startedAt = performance.now();
const scratch = mkdtempSync(join(tmpdir(), 'federation-audit-run-'));
let exitCode = 0;
try {
  console.log(`Federation gateway audit ${checkout.revision} (${checkout.origin}): ${ids.length} suite(s), executor(s) ${executors.join(', ')}${args.through === 'router' ? ', through our router' : ''}\n`);

  const [suites, bundles] = await Promise.all([Promise.all(ids.map((id) => loadAuditSuite(checkout.sourceDir, id))), buildBundles()]);
  const { results, gatewayStarts } = await runAudit({
    suites,
    executors,
    bundles,
    dir: scratch,
    concurrency,
    reuse: !args['gateway-per-suite'],
    throughRouter: args.through === 'router',
    onResult: (result) => {
      const passed = result.cases.filter((c) => c.passed).length;
      console.error(`  ${result.suite} (${result.executor}): ${passed}/${result.cases.length} in ${Math.round(result.durationMs)} ms${result.failure ? ` — ${result.failure.split('\n')[0]}` : ''}`);
    },
  });

  console.log(`\n${formatAuditTable(ids, executors, results)}\n`);
  const inOrder = (a: AuditSuiteResult, b: AuditSuiteResult) => a.suite.localeCompare(b.suite) || a.executor.localeCompare(b.executor);
  if (args.verbose) {
    const failed = results.sort(inOrder).flatMap((r) => r.cases.filter((c) => !c.passed).map((c) => formatFailedCase(r.suite, r.executor, c)));
    if (failed.length) console.log(`Failing cases:\n${failed.join('\n')}\n`);
  }

  if (executors.includes('own') && executors.includes('apollo')) {
    const gaps = executorGaps(results);
    if (gaps.length) {
      exitCode = 1;
      console.log(`✗ ${gaps.length} case(s) our executor fails and Apollo's passes:\n${gaps.map((g) => formatFailedCase(g.suite, 'own', g.own)).join('\n')}\n`);
    } else {
      console.log(`✓ our executor passes every case Apollo's passes\n`);
    }
  }

  if (executors.includes('apollo')) {
    if (args['write-baseline']) {
      writeApolloBaseline(results, checkout.revision);
      console.log(`Apollo's results recorded in scripts/audit/apolloBaseline.json\n`);
    } else {
      const baseline = readApolloBaseline();
      if (!baseline) {
        exitCode = 1;
        console.log(`✗ no Apollo baseline (scripts/audit/apolloBaseline.json): record one with --write-baseline\n`);
      } else {
        const { regressions, improvements, unknown: notCompared } = compareWithBaseline(results, baseline);
        const apolloCase = (s: { suite: string; index: number }) => results.find((r) => r.executor === 'apollo' && r.suite === s.suite)!.cases[s.index];
        if (regressions.length) {
          // Through the router a failed operation nulls its root fields (the router's public schema makes
          // them nullable) where a gateway answers data: null: shown, not failed.
          if (args.through === 'gateway') exitCode = 1;
          console.log(`${args.through === 'gateway' ? '✗' : '(not failed through the router)'} ${regressions.length} case(s) Apollo's executor passed in its baseline (audit ${baseline.audit.slice(0, 7)}, ${baseline.recordedAt}) and fails now:\n${regressions.map((r) => formatFailedCase(r.suite, 'apollo', apolloCase(r))).join('\n')}\n`);
        } else {
          console.log(`✓ Apollo's executor passes every case of its baseline (audit ${baseline.audit.slice(0, 7)}, ${baseline.recordedAt})\n`);
        }
        if (improvements.length) console.log(`Apollo's executor now passes ${improvements.map((i) => `${i.suite}_${i.index}`).join(', ')}: record a new baseline with --write-baseline\n`);
        if (notCompared.length) console.log(`Not in the baseline (new suites or changed cases): ${notCompared.join(', ')}\n`);
      }
    }
  }
  console.log(`Done in ${((performance.now() - startedAt) / 1000).toFixed(1)} s (${gatewayStarts} gateway start(s) for ${results.length} suite run(s))`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
  checkout.close();
}
process.exit(exitCode);
