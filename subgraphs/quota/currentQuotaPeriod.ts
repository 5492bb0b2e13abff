import type { Selectable } from 'kysely';
import type { QuotasTable } from '../store/tables.ts';

/** The Quota a client sees. */
export interface QuotaView {
  limit: number;
  used: number;
  remaining: number;
  resetsAt: string;
}

/** Start of the month after `date`, UTC: quota periods are calendar months. */
export function startOfNextMonthUtc(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1));
}

/**
 * The quota of the period containing `now`. A stored period that has already ended counts as a fresh
 * one (nothing used yet, resets next month), so a stale row never shows a reset date in the past.
 */
export function currentQuotaPeriod(row: Selectable<QuotasTable>, now: Date = new Date()): QuotaView {
  const resetsAt = new Date(row.resets_at);
  if (!(resetsAt.getTime() > now.getTime())) {
    return { limit: row.limit, used: 0, remaining: row.limit, resetsAt: startOfNextMonthUtc(now).toISOString() };
  }
  return {
    limit: row.limit,
    used: row.used,
    remaining: Math.max(0, row.limit - row.used),
    resetsAt: resetsAt.toISOString(),
  };
}
