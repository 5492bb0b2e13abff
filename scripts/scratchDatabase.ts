import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase, type Store } from '../subgraphs/store/openDatabase.ts';

/**
 * A database of its own for one test stack or benchmark, on the engine `TEST_DATABASE` names:
 * `sqlite` (default, a file in the scratch folder) or `postgres` (a fresh database on the server
 * `TEST_DATABASE_URL` points at, created here and dropped by `drop()`). So the same test runs
 * against either store: `TEST_DATABASE=postgres npx vitest run --project integration`.
 */
export interface ScratchDatabase {
  kind: 'sqlite' | 'postgres';
  /** Environment that points a component at it (DATABASE_PATH, or DATABASE_URL and a small pool). */
  env: Record<string, string>;
  /** A store on it, for a test to look at or change the data the components see. */
  open(options?: { onQuery?: (sql: string) => void; poolSize?: number }): Promise<Store>;
  /** Drops the PostgreSQL database (its connections too); nothing for SQLite, whose folder the caller removes. */
  drop(): Promise<void>;
}

/** Where tests create their databases: trust auth on loopback, as the CI machine's service is set up. */
export const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Connections per component process in tests: a stack runs 14 subgraph processes and two stacks may
 * run at once, within PostgreSQL's default 100 connections.
 */
const TEST_POOL_SIZE = 3;

export function scratchDatabaseKind(env: NodeJS.ProcessEnv = process.env): 'sqlite' | 'postgres' {
  const kind = env.TEST_DATABASE ?? 'sqlite';
  if (kind !== 'sqlite' && kind !== 'postgres') throw new Error(`TEST_DATABASE must be "sqlite" or "postgres", got "${kind}"`);
  return kind;
}

/** Creates the database (PostgreSQL) or names the file (SQLite, `dir/data.db`). */
export async function createScratchDatabase(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<ScratchDatabase> {
  if (scratchDatabaseKind(env) === 'sqlite') {
    const path = join(dir, 'data.db');
    return { kind: 'sqlite', env: { DATABASE_PATH: path }, open: ({ onQuery } = {}) => openDatabase({ path, onQuery }), drop: async () => {} };
  }
  const adminUrl = env.TEST_DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL;
  const name = `supergraph_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  // template0 and the C collation: text sorts byte-wise, as SQLite sorts it, whatever the server's default.
  await admin(adminUrl, `create database ${name} template template0 encoding 'UTF8' lc_collate 'C' lc_ctype 'C'`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  let dropped: Promise<void> | undefined;
  return {
    kind: 'postgres',
    env: { DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: String(TEST_POOL_SIZE) },
    open: (options = {}) => openDatabase({ url: databaseUrl, poolSize: TEST_POOL_SIZE, applicationName: 'test', ...options }),
    drop: () => (dropped ??= admin(adminUrl, `drop database if exists ${name} with (force)`)),
  };
}

async function admin(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
