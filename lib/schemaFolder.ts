import { resolve } from 'node:path';

/** The repository's schema/ folder. */
export const REPOSITORY_SCHEMA_DIR = resolve(import.meta.dirname, '..', 'schema');

/**
 * Where every component reads its SDLs and composed supergraphs (and what hot reload watches):
 * `SCHEMA_DIR`, else the repository's schema/. A deployment, or a test on a scratch copy, points all
 * tiers at one folder.
 */
export function schemaFolder(env: NodeJS.ProcessEnv = process.env): string {
  return env.SCHEMA_DIR ? resolve(env.SCHEMA_DIR) : REPOSITORY_SCHEMA_DIR;
}
