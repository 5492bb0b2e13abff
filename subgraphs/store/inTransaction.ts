import type { Kysely, Transaction } from 'kysely';
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
}

/** True for an error PostgreSQL raises when a concurrent transaction won and this one should run again. */
export function isRetryableConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE.has(code);
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `work` in one transaction of the store (SERIALIZABLE on PostgreSQL, the write lock on SQLite)
 * and runs it again from the start when PostgreSQL reports that a concurrent transaction conflicted.
 * `work` must therefore keep its effects inside the transaction (or make them idempotent): it may run
 * more than once, and only the last run commits. SQLite never raises these codes, so there it runs once.
 */
export async function inTransaction<T>(db: Kysely<Database>, work: (trx: Transaction<Database>) => Promise<T>, options: InTransactionOptions = {}): Promise<T> {
  const { attempts = 12, baseDelayMs = 5, maxDelayMs = 250, random = Math.random, sleep = sleepFor } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(work);
    } catch (error) {
      if (attempt >= attempts || !isRetryableConflict(error)) throw error;
      // Full jitter: replicas that collided once should not collide again on the same beat.
      await sleep(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1)));
    }
  }
}
