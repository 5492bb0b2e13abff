import { resolve } from 'node:path';
import { buildSchema, type GraphQLSchema } from 'graphql';
import { SCHEMA_PROBLEM } from '../../lib/errors.ts';
import type { SupergraphName } from '../../lib/topology/loadTopology.ts';
import { buildApiSchema } from '../../router/loadApiSchema.ts';
import { COMPOSITION_TARGETS, PUBLIC_SCHEMA_FILE, composeFromRoverConfig, printRouterSchema } from '../composeSupergraphs.ts';
import { acceptanceOf, loadAcceptedChanges } from './acceptedChanges.ts';
import { checkOperations, type BrokenOperation, type KnownOperation } from './operationChecks.ts';
import { chooseBase, describeBase, readBaseFile } from './schemaBase.ts';
import { schemaChanges, type SchemaChange } from './schemaChanges.ts';

export interface SchemaCheckOptions {
  /** The project root: rover configs, schema/ and the accepted-changes file are read under it. @default process.cwd() */
  root?: string;
  /** Git ref to diff against. @default HEAD in a git work tree, else the composed files on disk */
  base?: string;
  /** @default <root>/schema/accepted-changes.yaml */
  acceptedFile?: string;
  /** Operations clients sent, replayed against the new public schema. @default none */
  operations?: readonly KnownOperation[];
  /** Today as YYYY-MM-DD, for expiries. @default the current UTC day */
  today?: string;
  /** @default console.log */
  print?: (line: string) => void;
}

export interface SchemaCheckReport {
  ok: boolean;
  /** Failed compositions and router-schema merges, with their codes. */
  compositionErrors: Array<{ schema: string; code: string; message: string }>;
  changes: Array<SchemaChange & { schema: string; accepted: boolean }>;
  brokenOperations: BrokenOperation[];
}

const MARK = { breaking: '✖', dangerous: '⚠', safe: '✔' } as const;

/**
 * The offline counterpart of `rover subgraph check`: composes every supergraph from the working tree
 * and the router's public schema from them, diffs each against the base, replays known operations
 * against the new public schema, and fails on an unaccepted breaking change or a broken operation.
 */
export async function runSchemaCheck(options: SchemaCheckOptions = {}): Promise<SchemaCheckReport> {
  const root = resolve(options.root ?? process.cwd());
  const print = options.print ?? ((line: string) => console.log(line));
  const today = options.today ?? new Date().toISOString().slice(0, 10);
  const base = chooseBase(root, options.base);
  const accepted = loadAcceptedChanges(options.acceptedFile ?? resolve(root, 'schema/accepted-changes.yaml'));
  const report: SchemaCheckReport = { ok: true, compositionErrors: [], changes: [], brokenOperations: [] };
  print(`Schema check of the working tree against ${describeBase(base)}`);

  const composed: Record<string, string> = {};
  const compare = async (schema: string, label: string, baseSchema: GraphQLSchema | undefined, next: GraphQLSchema) => {
    print('');
    print(`${schema} (${label})`);
    if (!baseSchema) print('  new: nothing to compare with');
    const changes = baseSchema ? await schemaChanges(baseSchema, next) : [];
    if (baseSchema && !changes.length) print('  no changes');
    for (const change of changes) {
      const acceptance = change.severity === 'breaking' ? acceptanceOf(accepted, schema, change, today) : undefined;
      const isAccepted = Boolean(acceptance && !acceptance.expired);
      const note = acceptance ? (acceptance.expired ? `  (acceptance expired ${acceptance.entry.expires})` : `  (accepted until ${acceptance.entry.expires}: ${acceptance.entry.reason})`) : '';
      print(`  ${MARK[change.severity]} ${change.severity.padEnd(9)} ${change.kind.padEnd(30)} ${change.path.padEnd(28)} ${change.message}${note}`);
      report.changes.push({ ...change, schema, accepted: isAccepted });
    }
  };

  for (const target of COMPOSITION_TARGETS) {
    const outcome = composeFromRoverConfig(target.config, root);
    if (!outcome.ok) {
      // As rover prints a failed `supergraph compose`.
      print('');
      print(`error[E029]: Encountered ${outcome.errors.length} build error${outcome.errors.length === 1 ? '' : 's'} while trying to build the ${target.name} supergraph (${target.config}).`);
      print('');
      print('Caused by:');
      for (const error of outcome.errors) {
        print(`    ${error.code}: ${error.message}`);
        report.compositionErrors.push({ schema: target.name, ...error });
      }
      continue;
    }
    composed[target.name] = outcome.supergraphSdl;
    const baseSdl = readBaseFile(root, base, target.output);
    await compare(target.name, target.config, baseSdl ? buildApiSchema(baseSdl) : undefined, buildApiSchema(outcome.supergraphSdl));
  }

  let publicSchema: GraphQLSchema | undefined;
  if (composed.identity && composed.commerce) {
    try {
      publicSchema = buildSchema(printRouterSchema({ identity: composed.identity, commerce: composed.commerce } as Record<SupergraphName, string>));
    } catch (error) {
      const message = (error as Error).message;
      const code = /^root field/.test(message)
        ? SCHEMA_PROBLEM.ROOT_FIELD_CONFLICT
        : /defined differently/.test(message)
          ? SCHEMA_PROBLEM.TYPE_CONFLICT
          : SCHEMA_PROBLEM.ROUTER_SCHEMA_INVALID;
      print('');
      print('error: the router cannot merge the supergraphs into its public schema.');
      print('');
      print('Caused by:');
      print(`    ${code}: ${message}`);
      report.compositionErrors.push({ schema: 'public', code, message });
    }
  }
  const basePublicSdl = readBaseFile(root, base, PUBLIC_SCHEMA_FILE);
  const basePublic = basePublicSdl ? buildSchema(basePublicSdl) : undefined;
  if (publicSchema) await compare('public', `the router's schema, ${PUBLIC_SCHEMA_FILE}`, basePublic, publicSchema);

  const operations = options.operations ?? [];
  if (publicSchema && basePublic && operations.length) {
    const result = checkOperations(operations, basePublic, publicSchema);
    const bySource = countBy(operations, (o) => o.source);
    print('');
    print(`operations: ${result.checked} distinct checked against the new public schema (${Object.entries(bySource).map(([s, n]) => `${n} ${s}`).join(', ')})`);
    if (result.alreadyInvalid) print(`  ${result.alreadyInvalid} already invalid against the base (not this change's doing)`);
    if (!result.broken.length) print('  none would break');
    for (const op of result.broken) {
      const seen = op.lastSeen ? `, last seen ${new Date(op.lastSeen).toISOString()}` : '';
      print(`  ✖ ${op.name ?? '(anonymous)'} (${op.source}${seen}) would break: ${op.errors.join(' ')}`);
    }
    report.brokenOperations = result.broken;
  } else if (!operations.length) {
    print('');
    print('operations: none known (no trusted-documents manifest, nothing recorded by a router)');
  }

  const breaking = report.changes.filter((c) => c.severity === 'breaking');
  const unaccepted = breaking.filter((c) => !c.accepted);
  // Accepting every breaking change is accepting the operations they break; otherwise a broken operation fails the check.
  const operationsFail = report.brokenOperations.length > 0 && unaccepted.length > 0;
  report.ok = !report.compositionErrors.length && !unaccepted.length && !operationsFail;
  const counts = countBy(report.changes, (c) => c.severity);
  print('');
  print(
    `${report.ok ? 'PASS' : 'FAIL'}: ${report.compositionErrors.length} composition error(s), ${counts.breaking ?? 0} breaking (${breaking.length - unaccepted.length} accepted), ` +
      `${counts.dangerous ?? 0} dangerous, ${counts.safe ?? 0} safe change(s); ${report.brokenOperations.length} operation(s) would break`,
  );
  return report;
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}
