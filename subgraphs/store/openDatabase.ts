import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, type CompiledQuery } from 'kysely';
import { migrations } from './migrations.ts';
import { openPostgresDatabase, type OpenPostgresOptions } from './openPostgresDatabase.ts';
import { seedStatements } from './seed.ts';
import type { Database } from './tables.ts';
import { WriteLockingSqliteDialect } from './writeLockingSqliteDialect.ts';

/** The shared data store of the subgraphs. */
export interface Store {
  db: Kysely<Database>;
  /** Which engine holds the data: an embedded SQLite file, or a PostgreSQL server shared by machines. */
  kind: 'sqlite' | 'postgres';
  /** Closes the database handle; safe to call more than once. */
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** SQLite file; its folder is created when missing. `:memory:` works for a single process. */
  path: string;
  /** Called with the SQL of every executed query (tests count store round-trips with it). */
  onQuery?: (sql: string) => void;
  /**
   * How long a writer waits for another process's lock before failing, in ms. Every replica of every
   * subgraph shares the file, so short waits are normal. @default 5000
   */
  busyTimeoutMs?: number;
}

/** Opens (creating, migrating and seeding on first use) the shared store: PostgreSQL when given a `url`, else SQLite. */
export async function openDatabase(options: OpenDatabaseOptions | OpenPostgresOptions): Promise<Store> {
  if ('url' in options) return openPostgresDatabase(options);
  const { path, onQuery, busyTimeoutMs = 5_000 } = options;
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });

  const raw = new BetterSqlite3(path, { timeout: busyTimeoutMs });
  try {
    const db = new Kysely<Database>({
      dialect: new WriteLockingSqliteDialect({ database: raw }),
      log: onQuery ? (event) => onQuery(event.query.sql) : undefined,
    });
    // Every replica of every subgraph opens the same file at once on `npm start`. SQLite does not
    // call the busy handler in every case (switching a new file to WAL, a WAL recovery under way):
    // such a start is tried again rather than failing, for as long as a starter may wait.
    whileBusy(startupWaitMs(busyTimeoutMs), () => {
      raw.pragma(`busy_timeout = ${busyTimeoutMs}`);
      // WAL is a property of the file: once a starter switched it, the others leave it alone.
      if (raw.pragma('journal_mode', { simple: true }) !== 'wal') raw.pragma('journal_mode = WAL');
      raw.pragma('synchronous = NORMAL');
      migrateAndSeed(raw, db);
    });

    let closing: Promise<void> | undefined;
    return {
      db,
      kind: 'sqlite',
      close: () =>
        (closing ??= (async () => {
          await db.destroy();
          // Kysely only closes a handle it has used; a store closed before its first query still owns one.
          if (raw.open) raw.close();
        })()),
    };
  } catch (error) {
    raw.close();
    throw error;
  }
}

/** How long start-up keeps trying a file other starters hold: several busy timeouts, at least 30 s. */
function startupWaitMs(busyTimeoutMs: number): number {
  return Math.max(30_000, 4 * busyTimeoutMs);
}

/**
 * Runs `work` again while SQLite says the file is busy or locked, pausing between tries (this runs
 * once, at start, before the process serves anything: blocking is what it should do).
 */
function whileBusy(forMs: number, work: () => void): void {
  const giveUpAt = Date.now() + forMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let attempt = 1; ; attempt++) {
    try {
      return work();
    } catch (error) {
      const code = String((error as { code?: unknown }).code ?? '');
      if (!code.startsWith('SQLITE_BUSY') && !code.startsWith('SQLITE_LOCKED')) throw error;
      if (Date.now() >= giveUpAt) throw error;
      Atomics.wait(pause, 0, 0, Math.min(200, 10 * attempt) * (0.5 + Math.random()));
    }
  }
}

/**
 * Creates the schema and seeds once, even when many processes start together: the IMMEDIATE
 * transaction makes starters queue on the write lock, and whoever comes after the first finds the
 * `seeded` meta row and skips. It runs synchronously on the raw handle on purpose (see migrations.ts).
 */
function migrateAndSeed(raw: BetterSqlite3.Database, db: Kysely<Database>): void {
  const run = (query: CompiledQuery) => raw.prepare(query.sql).run(...(query.parameters as unknown[]));
  const seededQuery = db.selectFrom('meta').select('value').where('key', '=', 'seeded').compile();
  raw.transaction(() => {
    for (const statement of migrations(db)) run(statement);
    const seeded = raw.prepare(seededQuery.sql).get(...(seededQuery.parameters as unknown[]));
    if (!seeded) for (const statement of seedStatements(db)) run(statement);
  }).immediate();
}
