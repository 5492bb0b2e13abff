import { CompiledQuery, sql, type Kysely } from 'kysely';
import type { Database } from '../../store/tables.ts';
import { AppendWakeups } from './appendWakeups.ts';
import type { ChunkLog, StoredChunk } from './chunkLog.ts';
import { RecentChunks } from './recentChunks.ts';

/**
 * Inserted only when it is the next index (no gap; the primary key forbids a repeat). Compiled once
 * per store rather than built per token: at a few thousand tokens a second the query builder showed
 * up as a large share of a replica's CPU. The casts give PostgreSQL the types of a bare SELECT list.
 */
function appendSql(db: Kysely<Database>): string {
  const p = sql.val(null);
  return sql`insert into chat_chunks (message_id, idx, delta, done, finish_reason, usage, created_at)
  select cast(${p} as text), cast(${p} as integer), cast(${p} as text), cast(${p} as integer), cast(${p} as text), cast(${p} as text), cast(${p} as bigint)
  where coalesce((select max(idx) from chat_chunks where message_id = ${p}), -1) = ${p}
  on conflict do nothing`.compile(db).sql;
}

interface PendingAppend {
  messageId: string;
  chunk: StoredChunk;
  resolve(appended: boolean): void;
  reject(error: unknown): void;
}

/**
 * The chunk log in the shared store (table chat_chunks), for deployments without Redis.
 * Appends made in the same turn of the event loop are committed together in one transaction (group
 * commit): with many streams at once, one write lock per turn instead of one per token. On
 * PostgreSQL that transaction is READ COMMITTED: each append is one atomic statement, and of two
 * replicas appending the same index the primary key lets one in (the other's insert waits for it,
 * then does nothing), so SERIALIZABLE would only add conflicts between unrelated answers.
 */
export class StoreChunkLog implements ChunkLog {
  readonly kind = 'store' as const;
  private readonly wakeups = new AppendWakeups();
  private readonly recent = new RecentChunks();
  private pending: PendingAppend[] = [];
  private flushing = false;
  private readonly appendSql: string;

  constructor(private readonly db: Kysely<Database>, private readonly now: () => number = Date.now) {
    this.appendSql = appendSql(db);
  }

  append(messageId: string, chunk: StoredChunk): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.pending.push({ messageId, chunk, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.pending.length) {
      const batch = this.pending;
      this.pending = [];
      const results: boolean[] = [];
      try {
        await this.db.transaction().setIsolationLevel('read committed').execute(async (trx) => {
          for (const { messageId, chunk } of batch) {
            const params = [
              messageId, chunk.index, chunk.delta, chunk.done ? 1 : 0, chunk.finishReason ?? null,
              chunk.usage ? JSON.stringify(chunk.usage) : null, this.now(), messageId, chunk.index - 1,
            ];
            const inserted = await trx.executeQuery(CompiledQuery.raw(this.appendSql, params));
            results.push(Number(inserted.numAffectedRows ?? 0) === 1);
          }
        });
      } catch (error) {
        for (const item of batch) item.reject(error);
        continue;
      }
      batch.forEach((item, i) => {
        if (results[i]) this.recent.remember(item.messageId, item.chunk);
        item.resolve(results[i]);
      });
      for (const messageId of new Set(batch.map((item) => item.messageId))) this.wakeups.wake(messageId);
    }
    this.flushing = false;
  }

  async read(messageId: string, after: number, limit = 1_000): Promise<StoredChunk[]> {
    return this.recent.read(messageId, after, limit) ?? this.readStored(messageId, after, limit);
  }

  async readStored(messageId: string, after: number, limit = 1_000): Promise<StoredChunk[]> {
    const rows = await this.db
      .selectFrom('chat_chunks')
      .selectAll()
      .where('message_id', '=', messageId)
      .where('idx', '>', after)
      .orderBy('idx')
      .limit(limit)
      .execute();
    return rows.map((row) => ({
      index: row.idx,
      delta: row.delta,
      done: row.done === 1,
      finishReason: row.finish_reason,
      usage: row.usage ? JSON.parse(row.usage) : null,
    }));
  }

  // The store cannot notify other processes: appends elsewhere are found by polling.
  waitForAppend(messageId: string, pollMs: number, signal: AbortSignal): Promise<void> {
    return this.wakeups.wait(messageId, pollMs, signal);
  }

  localTop(messageId: string): number | undefined {
    return this.recent.top(messageId);
  }

  /** Drops chunks older than `maxAgeMs`; returns how many. */
  async expire(maxAgeMs: number): Promise<number> {
    const result = await this.db.deleteFrom('chat_chunks').where('created_at', '<', this.now() - maxAgeMs).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async close(): Promise<void> {}
}
