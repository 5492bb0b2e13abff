import type { RedisClient } from '../../../lib/cache/connectRedis.ts';
import { AppendWakeups } from './appendWakeups.ts';
import type { ChunkLog, StoredChunk } from './chunkLog.ts';
import { RecentChunks } from './recentChunks.ts';

/**
 * Appends only the next index (one key, the message's stream, so on a Cluster the script runs where
 * that stream lives; PUBLISH from a script reaches subscribers on every node): the stream's length is the next index because it is never trimmed
 * (it expires whole). Entry ids are `<index + 1>-0`, so XRANGE can start at any index directly.
 */
const APPEND_SCRIPT = `
if redis.call('XLEN', KEYS[1]) ~= tonumber(ARGV[1]) then return 0 end
redis.call('XADD', KEYS[1], (tonumber(ARGV[1]) + 1) .. '-0', 'c', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[1])
return 1
`;

type RedisWithAppend = RedisClient & { chatAppendChunk(key: string, index: number, chunk: string, ttlMs: number, channel: string): Promise<number> };

/** A channel listened to: `active` once Redis confirmed the SUBSCRIBE (`ready`), dropped by `timer` when unused. */
interface Subscription {
  timer: NodeJS.Timeout;
  active: boolean;
  ready: Promise<void>;
}

const WAKE_CHANNEL = 'chat:appended:';
/** A message's channel stays subscribed this long after its last remote wait: followers wait once per chunk. */
const SUBSCRIPTION_LINGER_MS = 10_000;

/**
 * The chunk log in Redis Streams (one stream per message, `chat:chunks:<messageId>`), shared by all
 * chat replicas when REDIS_URL is set. Every append also publishes on `chat:appended:<messageId>`;
 * a replica following an answer written elsewhere subscribes to that channel (one subscriber
 * connection per replica, rather than a blocking XREAD connection per follower) and is woken at
 * once, with polling at the follow interval as the fallback if a message is missed.
 */
export class RedisChunkLog implements ChunkLog {
  readonly kind = 'redis' as const;
  private readonly wakeups = new AppendWakeups();
  private readonly recent = new RecentChunks();
  private readonly redis: RedisWithAppend;
  private subscriber?: RedisClient;
  /** Channels subscribed for remote waits, with the timer that drops each when unused. */
  private readonly subscribed = new Map<string, Subscription>();

  constructor(redis: RedisClient, private readonly ttlMs: number) {
    redis.defineCommand('chatAppendChunk', { numberOfKeys: 1, lua: APPEND_SCRIPT });
    this.redis = redis as RedisWithAppend;
  }

  private key(messageId: string): string {
    return `chat:chunks:${messageId}`;
  }

  async append(messageId: string, chunk: StoredChunk): Promise<boolean> {
    const appended = (await this.redis.chatAppendChunk(this.key(messageId), chunk.index, JSON.stringify(chunk), this.ttlMs, WAKE_CHANNEL + messageId)) === 1;
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

  async waitForAppend(messageId: string, pollMs: number, signal: AbortSignal, elsewhere = false): Promise<void> {
    // A chunk published before our subscription was active never reaches us: when this wait found the
    // channel not yet listened to, it returns once it is, and the caller's next read finds such a chunk.
    if (elsewhere && (await this.listen(messageId).catch(() => false))) return;
    return this.wakeups.wait(messageId, pollMs, signal);
  }

  /** Listens to the message's appends elsewhere; true when the subscription was not active yet when asked (the caller reads again). */
  private async listen(messageId: string): Promise<boolean> {
    const channel = WAKE_CHANNEL + messageId;
    const known = this.subscribed.get(channel);
    if (known) {
      known.timer.refresh();
      if (known.active) return false;
      await known.ready;
      return true;
    }
    const drop = () => {
      this.subscribed.delete(channel);
      void this.subscriber?.unsubscribe(channel).catch(() => undefined);
    };
    if (!this.subscriber) {
      this.subscriber = this.redis.duplicate();
      this.subscriber.on('error', () => undefined); // the command connection reports Redis trouble
      this.subscriber.on('message', (name: string) => this.wakeups.wake(name.slice(WAKE_CHANNEL.length)));
    }
    const entry: Subscription = { timer: setTimeout(drop, SUBSCRIPTION_LINGER_MS).unref(), active: false, ready: Promise.resolve() };
    entry.ready = this.subscriber.subscribe(channel).then(
      () => {
        entry.active = true;
      },
      (error: unknown) => {
        clearTimeout(entry.timer);
        this.subscribed.delete(channel); // the next wait tries again; polling covers this one
        throw error;
      },
    );
    this.subscribed.set(channel, entry);
    await entry.ready;
    return true;
  }

  localTop(messageId: string): number | undefined {
    return this.recent.top(messageId);
  }

  async close(): Promise<void> {
    for (const { timer } of this.subscribed.values()) clearTimeout(timer);
    this.subscribed.clear();
    this.subscriber?.disconnect();
  }
}
