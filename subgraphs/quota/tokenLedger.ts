import type { Kysely, Transaction } from 'kysely';
import { quotaExceeded } from '../../lib/errors.ts';
import type { Database } from '../store/tables.ts';
import { startOfNextMonthUtc } from './currentQuotaPeriod.ts';

/**
 * The token ledger behind `User.quota`: the `quotas` row of a user, charged by whoever spends tokens
 * (the chat subgraph). Every function runs inside the caller's transaction, so a charge commits or
 * rolls back together with the answer it pays for; that transaction is the caller's inTransaction,
 * SERIALIZABLE on PostgreSQL, so two replicas charging one user at once cannot both read the same
 * `used` and lose one charge (the later one fails with 40001 and runs again). Tokens are reserved before an answer and settled
 * to what it really used after, so concurrent answers cannot together overspend the allowance.
 */
type Db = Kysely<Database> | Transaction<Database>;

/** The inTransaction lane of a user's quota: this process charges one user's quota one transaction at a time. */
export function quotaLane(userId: string): string {
  return `quota:${userId}`;
}

interface Period {
  limit: number;
  used: number;
  resetsAt: string;
}

/** The user's current period, rolling a finished one over (used back to 0) in the store. */
async function currentPeriod(db: Db, userId: string, now: Date): Promise<Period | undefined> {
  const row = await db.selectFrom('quotas').selectAll().where('user_id', '=', userId).executeTakeFirst();
  if (!row) return undefined;
  if (Date.parse(row.resets_at) > now.getTime()) return { limit: row.limit, used: row.used, resetsAt: row.resets_at };
  const resetsAt = startOfNextMonthUtc(now).toISOString();
  await db.updateTable('quotas').set({ used: 0, resets_at: resetsAt }).where('user_id', '=', userId).execute();
  return { limit: row.limit, used: 0, resetsAt };
}

/**
 * Holds between `min` and `max` tokens of the allowance, as many as remain; QUOTA_EXCEEDED (with
 * `resetsAt`) when fewer than `min` remain. A user without a quota row has no allowance.
 */
export async function reserveTokens(db: Db, userId: string, want: { min: number; max: number }, now = new Date()): Promise<{ granted: number; resetsAt: string }> {
  const period = await currentPeriod(db, userId, now);
  const resetsAt = period?.resetsAt ?? startOfNextMonthUtc(now).toISOString();
  const remaining = period ? Math.max(0, period.limit - period.used) : 0;
  if (remaining < want.min) throw quotaExceeded(resetsAt, { remaining, required: want.min });
  const granted = Math.min(want.max, remaining);
  await db.updateTable('quotas').set((eb) => ({ used: eb('used', '+', granted) })).where('user_id', '=', userId).execute();
  return { granted, resetsAt };
}

/**
 * Like reserveTokens but never refuses: holds up to `max` of what remains, possibly 0 (a resumed
 * answer already paid for its start and may finish short rather than fail).
 */
export async function reserveRemainingTokens(db: Db, userId: string, max: number, now = new Date()): Promise<number> {
  const period = await currentPeriod(db, userId, now);
  const granted = period ? Math.max(0, Math.min(max, period.limit - period.used)) : 0;
  if (granted > 0) await db.updateTable('quotas').set((eb) => ({ used: eb('used', '+', granted) })).where('user_id', '=', userId).execute();
  return granted;
}

/**
 * Turns a reservation into a charge: gives back `release` reserved tokens and charges `charge`.
 * When the period rolled over since the reservation, the old period's hold is gone with it and only
 * the charge lands on the new one.
 */
export async function settleTokens(db: Db, userId: string, amounts: { release: number; charge: number }, now = new Date()): Promise<void> {
  const row = await db.selectFrom('quotas').select(['used', 'resets_at']).where('user_id', '=', userId).executeTakeFirst();
  if (!row) return;
  const rolledOver = !(Date.parse(row.resets_at) > now.getTime());
  const before = rolledOver ? 0 : row.used;
  const used = Math.max(0, before - (rolledOver ? 0 : amounts.release) + amounts.charge);
  const resetsAt = rolledOver ? startOfNextMonthUtc(now).toISOString() : row.resets_at;
  await db.updateTable('quotas').set({ used, resets_at: resetsAt }).where('user_id', '=', userId).execute();
}
