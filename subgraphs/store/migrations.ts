import type { CompiledQuery, Kysely } from 'kysely';
import type { Database } from './tables.ts';

/**
 * The schema as compiled statements. They are compiled (not executed) so openDatabase can run them
 * synchronously inside one write-locked transaction: an `await` between BEGIN and COMMIT would let a
 * second store in the same process block the event loop on the lock it is waiting for. The same
 * statements, compiled for PostgreSQL, run there under an advisory lock (openPostgresDatabase.ts).
 * Types are chosen to mean the same on both engines: `double precision` (SQLite's REAL; PostgreSQL's
 * `real` is only 4 bytes) for money, `bigint` (an INTEGER to SQLite) for epoch milliseconds.
 */
export function migrations(db: Kysely<Database>): CompiledQuery[] {
  const s = db.schema;
  return [
    s.createTable('meta').ifNotExists()
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .compile(),
    s.createTable('users').ifNotExists()
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('email', 'text', (c) => c.notNull().unique())
      .addColumn('plan', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .compile(),
    s.createTable('api_keys').ifNotExists()
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('key_hash', 'text', (c) => c.notNull().unique())
      .addColumn('prefix', 'text', (c) => c.notNull())
      .addColumn('label', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('scopes', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .compile(),
    s.createIndex('api_keys_user_id').ifNotExists().on('api_keys').column('user_id').compile(),
    s.createTable('quotas').ifNotExists()
      .addColumn('user_id', 'text', (c) => c.primaryKey())
      .addColumn('limit', 'integer', (c) => c.notNull())
      .addColumn('used', 'integer', (c) => c.notNull())
      .addColumn('resets_at', 'text', (c) => c.notNull())
      .compile(),
    s.createTable('articles').ifNotExists()
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('price', 'double precision', (c) => c.notNull())
      .addColumn('stock', 'integer', (c) => c.notNull())
      .addColumn('tags', 'text', (c) => c.notNull())
      .compile(),
    s.createTable('article_stats').ifNotExists()
      .addColumn('article_id', 'text', (c) => c.primaryKey())
      .addColumn('views', 'integer', (c) => c.notNull())
      .addColumn('sales', 'integer', (c) => c.notNull())
      .compile(),
    s.createTable('orders').ifNotExists()
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('total', 'double precision', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('idempotency_key', 'text')
      .compile(),
    s.createIndex('orders_user_created').ifNotExists().on('orders').columns(['user_id', 'created_at', 'id']).compile(),
    // NULL keys never collide, so seeded orders without a key coexist.
    s.createIndex('orders_user_idempotency').ifNotExists().unique().on('orders').columns(['user_id', 'idempotency_key']).compile(),
    s.createTable('order_lines').ifNotExists()
      .addColumn('order_id', 'text', (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('article_id', 'text', (c) => c.notNull())
      .addColumn('quantity', 'integer', (c) => c.notNull())
      .addColumn('unit_price', 'double precision', (c) => c.notNull())
      .addPrimaryKeyConstraint('order_lines_pk', ['order_id', 'position'])
      .compile(),
    s.createTable('models').ifNotExists()
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('context_window', 'integer', (c) => c.notNull())
      .addColumn('is_default', 'integer', (c) => c.notNull())
      .compile(),
    s.createTable('conversations').ifNotExists()
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .compile(),
    s.createIndex('conversations_user_id').ifNotExists().on('conversations').column('user_id').compile(),
    s.createTable('messages').ifNotExists()
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('content', 'text', (c) => c.notNull())
      .addColumn('model_id', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .compile(),
    s.createIndex('messages_conversation_position').ifNotExists().unique().on('messages').columns(['conversation_id', 'position']).compile(),
    // Streamed chat (tables added after the first release: `ifNotExists` creates them in older files too).
    s.createTable('chat_generations').ifNotExists()
      .addColumn('message_id', 'text', (c) => c.primaryKey())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('model_id', 'text', (c) => c.notNull())
      .addColumn('assistant_position', 'integer', (c) => c.notNull())
      .addColumn('request', 'text', (c) => c.notNull())
      .addColumn('cache_key', 'text', (c) => c.notNull())
      .addColumn('cached', 'integer', (c) => c.notNull())
      .addColumn('prompt_tokens', 'integer', (c) => c.notNull())
      .addColumn('max_tokens', 'integer', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('lease_owner', 'text')
      .addColumn('lease_expires_at', 'bigint', (c) => c.notNull())
      .addColumn('watched_until', 'bigint', (c) => c.notNull())
      .addColumn('reserved_tokens', 'integer', (c) => c.notNull())
      .addColumn('charged_tokens', 'integer', (c) => c.notNull())
      .addColumn('completion_tokens', 'integer', (c) => c.notNull())
      .addColumn('finish_reason', 'text')
      .addColumn('started_at', 'bigint', (c) => c.notNull())
      .compile(),
    s.createIndex('chat_generations_conversation').ifNotExists().on('chat_generations').column('conversation_id').compile(),
    s.createIndex('chat_generations_owner').ifNotExists().on('chat_generations').columns(['lease_owner', 'state']).compile(),
    s.createTable('chat_chunks').ifNotExists()
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('idx', 'integer', (c) => c.notNull())
      .addColumn('delta', 'text', (c) => c.notNull())
      .addColumn('done', 'integer', (c) => c.notNull())
      .addColumn('finish_reason', 'text')
      .addColumn('usage', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('chat_chunks_pk', ['message_id', 'idx'])
      .compile(),
    s.createIndex('chat_chunks_created_at').ifNotExists().on('chat_chunks').column('created_at').compile(),
    s.createTable('prompt_cache').ifNotExists()
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .compile(),
    s.createTable('chat_usage').ifNotExists()
      .addColumn('message_id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('model_id', 'text', (c) => c.notNull())
      .addColumn('prompt_tokens', 'integer', (c) => c.notNull())
      .addColumn('completion_tokens', 'integer', (c) => c.notNull())
      .addColumn('cached', 'integer', (c) => c.notNull())
      .addColumn('latency_ms', 'integer', (c) => c.notNull())
      .addColumn('finish_reason', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .compile(),
    s.createIndex('chat_usage_user_id').ifNotExists().on('chat_usage').column('user_id').compile(),
    // A table of its own (not a column of chat_generations): `ifNotExists` adds it to older files too.
    s.createTable('chat_turn_keys').ifNotExists()
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('idempotency_key', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('chat_turn_keys_pk', ['user_id', 'idempotency_key'])
      .compile(),
  ];
}
