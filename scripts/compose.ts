import { writeFileSync } from 'node:fs';
import { COMPOSITION_TARGETS, PUBLIC_SCHEMA_FILE, composeFromRoverConfig, printRouterSchema } from './composeSupergraphs.ts';

// `npm run compose`: writes every supergraph SDL under schema/; exits non-zero on any composition error.
let failed = false;
const composed: Record<string, string> = {};
for (const target of COMPOSITION_TARGETS) {
  const outcome = composeFromRoverConfig(target.config);
  if (!outcome.ok) {
    failed = true;
    console.error(`✗ ${target.name} (${target.config}) failed to compose:`);
    for (const error of outcome.errors) console.error(`  [${error.code}] ${error.message}`);
    continue;
  }
  writeFileSync(target.output, outcome.supergraphSdl);
  composed[target.name] = outcome.supergraphSdl;
  console.log(`✓ ${target.name} → ${target.output}`);
}
if (!failed) {
  try {
    writeFileSync(PUBLIC_SCHEMA_FILE, printRouterSchema({ identity: composed.identity, commerce: composed.commerce }));
    console.log(`✓ router public schema → ${PUBLIC_SCHEMA_FILE}`);
  } catch (error) {
    failed = true;
    console.error(`✗ the router cannot merge the supergraphs: ${(error as Error).message}`);
  }
}
process.exit(failed ? 1 : 0);
