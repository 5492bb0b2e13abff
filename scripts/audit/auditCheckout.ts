import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Where the audit is read from when AUDIT_DIR is not set: the machine's snapshot of
 * graphql-hive/federation-gateway-audit, a bare git repository.
 */
export const DEFAULT_AUDIT_DIR = '/work/.mirror/graphql-hive+federation-gateway-audit/repo';

/** The audit's source on this machine, ready to import. */
export interface AuditCheckout {
  /** Its `src/` folder (beside its package.json, whose `"type": "module"` makes the .ts files ES modules). */
  sourceDir: string;
  /** The commit it came from (a bare repository's HEAD), or `work tree` when read in place. */
  revision: string;
  /** Where it came from, as given. */
  origin: string;
  /** Removes what was extracted; idempotent. */
  close(): void;
}

/** The audit checkout is not on this machine: the script says so and exits with AUDIT_MISSING_EXIT_CODE. */
export class AuditCheckoutMissing extends Error {}

/**
 * Opens the audit at `dir`: a work tree (`src/test-suites/` in it) is read in place; a bare git
 * repository is extracted with `git archive` (only `src/` and package.json) to a temporary folder. We
 * never install, build or commit anything of the audit: its TypeScript runs on our tsx and our packages
 * (registerAuditModules.ts).
 */
export function openAuditCheckout(dir: string = process.env.AUDIT_DIR || DEFAULT_AUDIT_DIR): AuditCheckout {
  const origin = resolve(dir);
  if (!existsSync(origin)) {
    throw new AuditCheckoutMissing(`no federation audit checkout at ${origin} (set AUDIT_DIR to a work tree or a bare git clone of graphql-hive/federation-gateway-audit)`);
  }
  if (existsSync(join(origin, 'src', 'test-suites')) && existsSync(join(origin, 'package.json'))) {
    return { sourceDir: join(origin, 'src'), revision: 'work tree', origin, close: () => {} };
  }
  const git = (...args: string[]) => execFileSync('git', ['--git-dir', origin, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  let revision: string;
  try {
    revision = git('rev-parse', '--verify', 'HEAD^{commit}').trim();
    git('cat-file', '-e', 'HEAD:src/test-suites');
  } catch {
    throw new AuditCheckoutMissing(`${origin} is neither a work tree of the federation audit (no src/test-suites/) nor a git repository holding one at HEAD`);
  }
  const target = mkdtempSync(join(tmpdir(), 'federation-audit-'));
  try {
    // git archive | tar: the one way to read a bare repository's files without a work tree of our own.
    execFileSync('sh', ['-c', 'git --git-dir "$1" archive --format=tar HEAD src package.json | tar -x -C "$2"', 'sh', origin, target], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    rmSync(target, { recursive: true, force: true });
    throw new Error(`could not extract the audit from ${origin}: ${(error as Error).message}`);
  }
  return { sourceDir: join(target, 'src'), revision, origin, close: () => rmSync(target, { recursive: true, force: true }) };
}
