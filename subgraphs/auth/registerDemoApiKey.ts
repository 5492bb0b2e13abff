import type { Kysely } from 'kysely';
import { registerApiKey } from '../store/apiKeys.ts';
import { SEED } from '../store/seed.ts';
import type { Database } from '../store/tables.ts';

/** Scopes of the demo key: everything the demo user may do. */
export const DEMO_API_KEY_SCOPES = ['orders:write', 'chat'];

/**
 * Registers the configured demo keys: one for the seeded demo user (PRO), and one for a seeded
 * FREE-plan user so a newcomer can watch the rate limit refuse. Keys are secrets, so they come from
 * config at start instead of the deterministic seed; every auth replica does it, idempotently.
 */
export async function registerDemoApiKey(options: { db: Kysely<Database>; demoApiKey?: string; demoFreeApiKey?: string }): Promise<void> {
  if (options.demoApiKey) {
    await registerApiKey(options.db, { userId: SEED.demoUserId, key: options.demoApiKey, label: 'demo', scopes: DEMO_API_KEY_SCOPES });
  }
  if (options.demoFreeApiKey) {
    await registerApiKey(options.db, { userId: SEED.demoFreeUserId, key: options.demoFreeApiKey, label: 'demo (free plan)', scopes: DEMO_API_KEY_SCOPES });
  }
}
