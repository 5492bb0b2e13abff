import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPTS = ['apolloGatewayServer', 'hiveGatewayServer', 'bareProxyServer', 'subgraphsServer', 'loadGenerator', 'cannedGatewayServer'] as const;
export type BenchScript = (typeof SCRIPTS)[number];

/**
 * The benchmark's own processes as plain JavaScript under dist/bench/ (packages stay external), run by
 * plain `node` like our bundled router and gateway: under the tsx loader, source maps are on, and then
 * every `new Error().stack` (agent-base in Apollo's fetcher takes one per subgraph fetch) is mapped back
 * to its source, a cost a deployed gateway does not pay. Every target then runs on equal terms.
 */
export async function buildBenchScripts(): Promise<Record<BenchScript, string>> {
  await build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(SCRIPTS.map((name) => [name, `bench/federation/${name}.ts`])),
    outdir: 'dist/bench',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'silent',
  });
  return Object.fromEntries(SCRIPTS.map((name) => [name, join(root, 'dist', 'bench', `${name}.js`)])) as Record<BenchScript, string>;
}
