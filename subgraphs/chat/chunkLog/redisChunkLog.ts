import type { Redis } from 'ioredis';
import { AppendWakeups } from './appendWakeups.ts';
import type { ChunkLog, StoredChunk } from './chunkLog.ts';
import { RecentChunks } from './recentChunks.ts';

/**
 * Appends only the next index: the stream's length is the next index because it is never trimmed
 * (it expires whole). Entry ids are `<index + 1>-0`, so XRANGE can start at any index directly.
 */
const APPEND_SCRIPT = `
if redis.call('XLEN', KEYS[1]) ~= tonumber(ARGV[1]) then return 0 end
redis.call('XADD', KEYS[1], (tonumber(ARGV[1]) + 1) .. '-0', 'c', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

type RedisWithAppend = Redis & { chatAppendChunk(key: string, index: number, chunk: string, ttlMs: number): Promise<number> };

/**
 * The chunk log in Redis Streams (one stream per message, `chat:chunks:<messageId>`), shared by all
 * chat replicas when REDIS_URL is set. Followers elsewhere find new entries by polling XRANGE at the
 * follow interval; in-process followers are woken at once. (A blocking XREAD would need a connection
 * per follower; following from another replica only happens while an answer fails over or is resumed.)
 */
export class RedisChunkLog implements ChunkLog {
  readonly kind = 'redis' as const;
  private readonly wakeups = new AppendWakeups();
  private readonly recent = new RecentChunks();
  private readonly redis: RedisWithAppend;

  constructor(redis: Redis, private readonly ttlMs: number) {
    redis.defineCommand('chatAppendChunk', { numberOfKeys: 1, lua: APPEND_SCRIPT });
    this.redis = redis as RedisWithAppend;
  }

  private key(messageId: string): string {
    return `chat:chunks:${messageId}`;
  }

  async append(messageId: string, chunk: StoredChunk): Promise<boolean> {
    const appended = (await this.redis.chatAppendChunk(this.key(messageId), chunk.index, JSON.stringify(chunk), this.ttlMs)) === 1;
    if (appended) {
      this.recent.remember(messageId, chunk);
      this.wakeups.wake(messageId);
    }
    return appended;
  }

  async read(messageId: string, after: number, limit = 1_000): Promise<StoredChunk[]> {
    return this.recent.read(messageId, after, limit) ?? this.readStored(messageId, after, limit);
  }

  async readStored(messageId: string, after: number, limit = 1_000): Promise<StoredChunk[]> {
    const entries = await this.redis.xrange(this.key(messageId), `${after + 2}-0`, '+', 'COUNT', limit);
    return entries.map(([, fields]) => JSON.parse(fields[1]) as StoredChunk);
  }

  waitForAppend(messageId: string, pollMs: number, signal: AbortSignal): Promise<void> {
    return this.wakeups.wait(messageId, pollMs, signal);
  }

  localTop(messageId: string): number | undefined {
    return this.recent.top(messageId);
  }

  async close(): Promise<void> {}
}
