import { Kysely, sql } from 'kysely';
import pg from 'pg';
import { migrations } from './migrations.ts';
import type { Store } from './openDatabase.ts';
import { seedStatements } from './seed.ts';
import { SerializablePostgresDialect } from './serializablePostgresDialect.ts';
import type { Database } from './tables.ts';

export interface OpenPostgresOptions {
  /** `postgres://user:password@host:port/database` (any libpq-style URL `pg` accepts). */
  url: string;
  /** Connections this process may hold at once. @default 10 */
  poolSize?: number;
  /** Shown in pg_stat_activity, so an operator can tell the replicas apart. @default "supergraph" */
  applicationName?: string;
  /** Called with the SQL of every executed query. */
  onQuery?: (sql: string) => void;
}

/** Any 64-bit number works; this one is "supergraph store migrations", the same in every replica. */
const MIGRATION_LOCK = 0x5347_5354_4f52_45n;

// Counts and sums come back as int8/numeric, which pg hands over as strings to spare precision. Every
// value we keep fits a double (epoch ms, token counts, cents), and the SQLite store returns numbers.
const INT8 = 20;
const NUMERIC = 1700;
const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8 || oid === NUMERIC) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

/**
 * Opens the store on PostgreSQL: a connection pool of this process's own, the schema created and
 * the seed written once however many replicas start together (they queue on an advisory lock, and
 * whoever comes after the first finds the `seeded` row and skips).
 */
export async function openPostgresDatabase(options: OpenPostgresOptions): Promise<Store> {
  const { url, poolSize = 10, applicationName = 'supergraph', onQuery } = options;
  const pool = new pg.Pool({ connectionString: url, max: poolSize, application_name: applicationName, types: typeParsers });
  // An idle connection the server closed (restart, failover) is dropped from the pool and the next
  // query opens another; without a listener the 'error' event would end the process instead.
  pool.on('error', () => {});
  const db = new Kysely<Database>({
    dialect: new SerializablePostgresDialect({ pool }),
    log: onQuery ? (event) => onQuery(event.query.sql) : undefined,
  });
  try {
    await migrateAndSeed(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return { db, kind: 'postgres', close: () => (closing ??= db.destroy()) };
}

/**
 * READ COMMITTED on purpose: a SERIALIZABLE transaction takes its snapshot at its first statement,
 * before the lock is granted, and would not see the seed that the replica ahead of it committed.
 */
async function migrateAndSeed(db: Kysely<Database>): Promise<void> {
  await db.transaction().setIsolationLevel('read committed').execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${sql.lit(MIGRATION_LOCK.toString())}::bigint)`.execute(trx);
    for (const statement of migrations(db)) await trx.executeQuery(statement);
    const seeded = await trx.selectFrom('meta').select('value').where('key', '=', 'seeded').executeTakeFirst();
    if (!seeded) for (const statement of seedStatements(db)) await trx.executeQuery(statement);
  });
}
