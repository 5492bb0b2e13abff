import { PostgresAdapter, sql, type Kysely, type Transaction } from 'kysely';
import { writeConflict } from '../../lib/errors.ts';
import type { Database } from './tables.ts';

/** SQLSTATEs after which running the whole transaction again is correct: serialization failure, deadlock. */
const RETRYABLE = new Set(['40001', '40P01']);

export interface InTransactionOptions {
  /**
   * Attempts in all before the conflict is the caller's error. Generous on purpose: on a hot row
   * (the last items of a popular article) each round lets one of the contenders through. @default 12
   */
  attempts?: number;
  /** First back-off; doubles per attempt up to maxDelayMs, with full jitter. @default 5 */
  baseDelayMs?: number;
  /** @default 250 */
  maxDelayMs?: number;
  /** @default Math.random */
  random?: () => number;
  /** @default a setTimeout promise */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Transactions in the same lane (e.g. `quota:<user>`) run one after another: in this process in
   * arrival order, and across processes on PostgreSQL under a session advisory lock taken before the
   * transaction starts, so its snapshot already holds the previous one's commit. On a hot row, such
   * as one user's quota under many concurrent answers, they would otherwise conflict again and again
   * and some would run out of attempts. (SQLite runs every transaction one after another anyway.)
   */
  lane?: string;
  /**
   * `read committed` for a transaction whose writes are atomic conditional updates (`UPDATE … WHERE
   * stock >= n`) and unique inserts: PostgreSQL then makes a concurrent writer wait for the row and
   * re-check its condition instead of failing it. @default the store's (SERIALIZABLE on PostgreSQL)
   */
  isolation?: 'read committed';
}

/** True for an error PostgreSQL raises when a concurrent transaction won and this one should run again. */
export function isRetryableConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE.has(code);
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The last transaction queued in each lane of this process, settled either way. */
const lanes = new Map<string, Promise<void>>();

function inLane<T>(lane: string, task: () => Promise<T>): Promise<T> {
  const run = (lanes.get(lane) ?? Promise.resolve()).then(task);
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  lanes.set(lane, settled);
  void settled.then(() => {
    if (lanes.get(lane) === settled) lanes.delete(lane);
  });
  return run;
}

/**
 * Runs `work` in one transaction of the store (SERIALIZABLE on PostgreSQL, the write lock on SQLite)
 * and runs it again from the start when PostgreSQL reports that a concurrent transaction conflicted.
 * `work` must therefore keep its effects inside the transaction (or make them idempotent): it may run
 * more than once, and only the last run commits. SQLite never raises these codes, so there it runs once.
 * A conflict that outlasts every attempt is WRITE_CONFLICT (retryable), never an internal error.
 */
export async function inTransaction<T>(db: Kysely<Database>, work: (trx: Transaction<Database>) => Promise<T>, options: InTransactionOptions = {}): Promise<T> {
  return options.lane === undefined ? withRetries(db, work, options) : inLane(options.lane, () => withRetries(db, work, options));
}

async function withRetries<T>(db: Kysely<Database>, work: (trx: Transaction<Database>) => Promise<T>, options: InTransactionOptions): Promise<T> {
  const { attempts = 12, baseDelayMs = 5, maxDelayMs = 250, random = Math.random, sleep = sleepFor } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      const transaction = options.isolation ? db.transaction().setIsolationLevel(options.isolation) : db.transaction();
      return await (options.lane !== undefined && isPostgres(db) ? inAdvisoryLock(db, options.lane, work) : transaction.execute(work));
    } catch (error) {
      if (!isRetryableConflict(error)) throw error;
      // Rolled back every time: nothing changed, and the client may send it again.
      if (attempt >= attempts) throw writeConflict();
      // Full jitter: replicas that collided once should not collide again on the same beat.
      await sleep(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1)));
    }
  }
}

function isPostgres(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/** The transaction on one connection that first waits for the lane's advisory lock (released with the session if it dies). */
function inAdvisoryLock<T>(db: Kysely<Database>, lane: string, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  return db.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(hashtext(${lane}))`.execute(connection);
    try {
      return await connection.transaction().execute(work);
    } finally {
      await sql`select pg_advisory_unlock(hashtext(${lane}))`.execute(connection);
    }
  });
}
