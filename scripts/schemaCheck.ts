import { parseArgs } from 'node:util';
import { loadObservabilityConfig } from '../lib/config/observabilityConfig.ts';
import { loadKnownOperations } from './schemaCheck/knownOperations.ts';
import { runSchemaCheck } from './schemaCheck/runSchemaCheck.ts';

// `npm run schema:check [-- --base origin/main]`: the offline `rover subgraph check` (README: Schema checks).
const USAGE = `usage: npm run schema:check -- [--base REF] [--root DIR] [--manifest FILE] [--operations FILE] [--redis URL] [--accepted FILE]
  --base        git ref to compare with (default: HEAD; the files on disk outside a git work tree)
  --root        project root holding rover.yaml, supergraphs/*/supergraph.yaml and schema/ (default: .)
  --manifest    trusted-documents manifest (default: TRUSTED_DOCUMENTS_MANIFEST)
  --operations  the router's recorded-operations file (default: RECORDED_OPERATIONS_FILE, else beside the database)
  --redis       Redis holding the routers' shared record (default: REDIS_URL)
  --accepted    accepted breaking changes (default: <root>/schema/accepted-changes.yaml)`;

let args;
try {
  args = parseArgs({
    options: {
      base: { type: 'string' },
      root: { type: 'string' },
      manifest: { type: 'string' },
      operations: { type: 'string' },
      redis: { type: 'string' },
      accepted: { type: 'string' },
      help: { type: 'boolean' },
    },
  }).values;
} catch (error) {
  console.error(`${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
try {
  const observability = loadObservabilityConfig(process.env);
  const operations = await loadKnownOperations({
    manifest: args.manifest ?? process.env.TRUSTED_DOCUMENTS_MANIFEST,
    recordedFile: args.operations ?? observability.recordedOperationsFile,
    redisUrl: args.redis ?? process.env.REDIS_URL,
  });
  const report = await runSchemaCheck({ root: args.root, base: args.base, acceptedFile: args.accepted, operations });
  process.exit(report.ok ? 0 : 1);
} catch (error) {
  console.error(`schema check could not run: ${(error as Error).message}`);
  process.exit(2);
}
