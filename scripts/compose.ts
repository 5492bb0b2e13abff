import { writeFileSync } from 'node:fs';
import { COMPOSITION_TARGETS, composeFromRoverConfig } from './composeSupergraphs.ts';

// `npm run compose`: writes every supergraph SDL under schema/; exits non-zero on any composition error.
let failed = false;
for (const target of COMPOSITION_TARGETS) {
  const outcome = composeFromRoverConfig(target.config);
  if (!outcome.ok) {
    failed = true;
    console.error(`✗ ${target.name} (${target.config}) failed to compose:`);
    for (const error of outcome.errors) console.error(`  [${error.code}] ${error.message}`);
    continue;
  }
  writeFileSync(target.output, outcome.supergraphSdl);
  console.log(`✓ ${target.name} → ${target.output}`);
}
process.exit(failed ? 1 : 0);
