import type { Kysely } from 'kysely';
import { registerApiKey } from '../store/apiKeys.ts';
import { SEED } from '../store/seed.ts';
import type { Database } from '../store/tables.ts';

/** Scopes of the demo key: everything the demo user may do. */
export const DEMO_API_KEY_SCOPES = ['orders:write', 'chat'];

/**
 * Registers the configured demo key for the seeded demo user. Keys are secrets, so they come from
 * config at start instead of the deterministic seed; every auth replica does it, idempotently.
 */
export async function registerDemoApiKey(options: { db: Kysely<Database>; demoApiKey?: string }): Promise<void> {
  if (!options.demoApiKey) return;
  await registerApiKey(options.db, {
    userId: SEED.demoUserId,
    key: options.demoApiKey,
    label: 'demo',
    scopes: DEMO_API_KEY_SCOPES,
  });
}
