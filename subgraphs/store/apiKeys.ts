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

/** A key as its owner may see it: everything but the secret. */
export interface ApiKeyRecord {
  id: string;
  label: string;
  prefix: string;
  scopes: string[];
  createdAt: string;
}

/** A new key's secret: 32 random bytes, with a prefix that tells a leaked key apart in logs and scanners. */
export function generateApiKey(randomBytes: (size: number) => Buffer): string {
  return `sgk_${randomBytes(32).toString('base64url')}`;
}

/**
 * Stores a new key for `userId`. Only its hash and prefix are kept: the secret is returned to the
 * caller once and cannot be read again.
 */
export async function createApiKey(
  db: Kysely<Database>,
  input: { userId: string; label: string; scopes: string[]; secret: string },
  now = new Date(),
): Promise<ApiKeyRecord> {
  const { id } = await registerApiKey(db, { userId: input.userId, key: input.secret, label: input.label, scopes: input.scopes }, now);
  return { id, label: input.label, prefix: apiKeyPrefix(input.secret), scopes: [...new Set(input.scopes)].sort(), createdAt: now.toISOString() };
}

/** Deletes `userId`'s key `id`; undefined when the user has no such key (someone else's included). */
export async function revokeApiKey(db: Kysely<Database>, input: { userId: string; id: string }): Promise<ApiKeyRecord | undefined> {
  const row = await db
    .deleteFrom('api_keys')
    .where('id', '=', input.id)
    .where('user_id', '=', input.userId)
    .returningAll()
    .executeTakeFirst();
  return row && apiKeyRecord(row);
}

/** The visible fields of a stored key. */
export function apiKeyRecord(row: { id: string; label: string; prefix: string; scopes: string; created_at: string }): ApiKeyRecord {
  return { id: row.id, label: row.label, prefix: row.prefix, scopes: JSON.parse(row.scopes) as string[], createdAt: row.created_at };
}
