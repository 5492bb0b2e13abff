import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export type BundleKind = 'router' | 'gateway' | 'subgraph';

const root = fileURLToPath(new URL('..', import.meta.url));
const ENTRIES: Record<BundleKind, string> = {
  router: 'router/main.ts',
  gateway: 'supergraphs/main.ts',
  subgraph: 'subgraphs/main.ts',
};

let built: Promise<Record<BundleKind, string>> | undefined;

/**
 * Bundles each component's TypeScript into one ES module under dist/ (packages stay external).
 * Seventeen processes loading hundreds of .ts files through the tsx loader cost ~2 s of CPU each;
 * a bundle starts in a fraction of that, which is what keeps `npm start` within its start-up budget.
 * dist/ sits one level below the root like the source folders, so `new URL('../schema/…',
 * import.meta.url)` resolves the same from both. Files are written by rename, so concurrent builds
 * (parallel test files) never see a half-written bundle.
 */
export function buildBundles(): Promise<Record<BundleKind, string>> {
  built ??= (async () => {
    const result = await build({
      absWorkingDir: root,
      entryPoints: Object.fromEntries(Object.entries(ENTRIES)),
      outdir: 'dist',
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      sourcemap: 'linked',
      write: false,
      logLevel: 'silent',
    });
    for (const file of result.outputFiles) {
      mkdirSync(dirname(file.path), { recursive: true });
      const temporary = `${file.path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      writeFileSync(temporary, file.contents);
      renameSync(temporary, file.path);
    }
    return Object.fromEntries(
      (Object.keys(ENTRIES) as BundleKind[]).map((kind) => [kind, join(root, 'dist', `${kind}.js`)]),
    ) as Record<BundleKind, string>;
  })();
  return built;
}
