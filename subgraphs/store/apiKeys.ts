import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from './tables.ts';

/** sha256 hex of an API key: the only form in which keys are stored or compared. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The visible start of a key; short keys reveal less so the prefix never gives most of the secret away. */
export function apiKeyPrefix(key: string): string {
  return key.slice(0, Math.min(8, Math.floor(key.length / 4)));
}

export interface RegisterApiKeyInput {
  userId: string;
  key: string;
  label: string;
  scopes: string[];
}

/**
 * Registers a key, or updates owner/label/scopes of the same key: every auth replica calls this at
 * start, so it must be an idempotent upsert. The id derives from the hash so all replicas agree on it.
 */
export async function registerApiKey(db: Kysely<Database>, input: RegisterApiKeyInput, now = new Date()): Promise<{ id: string }> {
  const keyHash = hashApiKey(input.key);
  const id = `key_${keyHash.slice(0, 16)}`;
  const scopes = JSON.stringify([...new Set(input.scopes)].sort());
  await db
    .insertInto('api_keys')
    .values({
      id,
      key_hash: keyHash,
      prefix: apiKeyPrefix(input.key),
      label: input.label,
      user_id: input.userId,
      scopes,
      created_at: now.toISOString(),
    })
    .onConflict((oc) => oc.column('key_hash').doUpdateSet({ user_id: input.userId, label: input.label, scopes }))
    .execute();
  return { id };
}
