import { z } from 'zod';

/**
 * The database section of the config: where the subgraphs' shared data lives. An embedded SQLite
 * file by default (one machine); `DATABASE_URL` names a PostgreSQL server instead, which replicas on
 * any number of machines share. Its own file so lib/config.ts stays one concept; mounted as `database`.
 */
export const databaseConfigSchema = z.object({
  /** SQLite file shared by all replicas on this machine; unused when `url` is set. @default "data/supergraph.db" */
  path: z.string().min(1).default('data/supergraph.db'),
  /**
   * PostgreSQL to use instead of the SQLite file: `postgres://user:password@host:5432/database`.
   * Every replica of every subgraph points at the same one. No default.
   */
  url: z
    .string()
    .url()
    .refine((value) => /^postgres(?:ql)?:\/\//.test(value), 'must be a postgres:// or postgresql:// URL')
    .optional(),
  /** Connections one subgraph process may hold to PostgreSQL at once. @default 10 */
  poolSize: z.coerce.number().int().min(1).max(200).default(10),
});

export type DatabaseConfig = z.infer<typeof databaseConfigSchema>;

export function databaseFromEnv(env: NodeJS.ProcessEnv) {
  return { path: env.DATABASE_PATH, url: env.DATABASE_URL, poolSize: env.DATABASE_POOL_SIZE };
}

/** What openDatabase needs for this config: the PostgreSQL pool when a URL is set, else the SQLite file. */
export function storeOptions(config: DatabaseConfig, applicationName: string): { url: string; poolSize: number; applicationName: string } | { path: string } {
  return config.url ? { url: config.url, poolSize: config.poolSize, applicationName } : { path: config.path };
}
