import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { connectRedis, type RedisClient } from '../../lib/cache/connectRedis.ts';
import type { Kysely, Selectable } from 'kysely';
import type { Logger } from 'pino';
import type { ChatConfig } from '../../lib/config/chatConfig.ts';
import { answerInterrupted } from '../../lib/errors.ts';
import type { Database, ModelsTable } from '../store/tables.ts';
import type { ChunkLog, StoredChunk } from './chunkLog/chunkLog.ts';
import { RedisChunkLog } from './chunkLog/redisChunkLog.ts';
import { StoreChunkLog } from './chunkLog/storeChunkLog.ts';
import { followMessage, type FollowDeps } from './followMessage.ts';
import { GenerationLeases } from './generationLeases.ts';
import { CachedAnswerSource } from './inference/cachedAnswerSource.ts';
import type { InferenceBackend } from './inference/inferenceBackend.ts';
import { LocalGenerator } from './inference/localGenerator.ts';
import { OpenAiCompatibleBackend } from './inference/openAiCompatibleBackend.ts';
import type { PromptCache } from './promptCache/promptCache.ts';
import { RedisPromptCache } from './promptCache/redisPromptCache.ts';
import { StorePromptCache } from './promptCache/storePromptCache.ts';
import { runGeneration, type GenerationDeps } from './runGeneration.ts';
import { RunningGenerations, type RunningGeneration } from './runningGenerations.ts';
import { resumeGeneration, interruptGeneration } from './settleGeneration.ts';
import { startChatTurn, type ChatInput } from './startChatTurn.ts';

export interface ChatRuntimeOptions {
  db: Kysely<Database>;
  config: ChatConfig;
  /** Redis for the chunk log and the prompt cache; the shared store holds both when absent. */
  redisUrl?: string;
  logger?: Logger;
  /** @default Date.now */
  now?: () => number;
}

/** What every chunk of one answer shares. */
export interface AnswerMeta {
  messageId: string;
  conversationId: string;
  userId: string;
  cached: boolean;
  model: Selectable<ModelsTable>;
}

/** Lease lapsed this long ago: the answer's replica is surely gone, so its reservation is settled. */
const ORPHAN_AFTER_MS = 60_000;
const SWEEP_INTERVAL_MS = 60_000;

/**
 * The long-lived part of one chat subgraph server: the inference backend, the shared chunk log and
 * prompt cache, the answers this replica writes, and the timers that keep its leases (heartbeat)
 * and the store (sweep) in order. Resolvers reach it through the request context.
 */
export class ChatRuntime {
  readonly backend: InferenceBackend;
  readonly chunkLog: ChunkLog;
  readonly promptCache: PromptCache;
  readonly leases: GenerationLeases;
  readonly generations: RunningGenerations;
  /** Answers this replica continued after nobody was writing them (for operators and tests). */
  readonly stats = { takeovers: 0 };
  private readonly db: Kysely<Database>;
  private readonly config: ChatConfig;
  private readonly now: () => number;
  private readonly logger?: Logger;
  private readonly redis?: RedisClient;
  private readonly watched = new Map<string, number>();
  private readonly timers: NodeJS.Timeout[] = [];
  private closing?: Promise<void>;

  constructor(options: ChatRuntimeOptions) {
    const { db, config, logger, now = Date.now } = options;
    this.db = db;
    this.config = config;
    this.now = now;
    this.logger = logger;
    this.backend = config.backendUrl
      ? new OpenAiCompatibleBackend({
          baseUrl: config.backendUrl, apiKey: config.backendApiKey, model: config.backendModel,
          timeoutMs: config.backendTimeoutMs, idleTimeoutMs: config.backendIdleTimeoutMs, logger,
        })
      : new LocalGenerator({ tokenIntervalMs: config.tokenIntervalMs });
    if (options.redisUrl) {
      this.redis = connectRedis(options.redisUrl, { maxRetriesPerRequest: 1, commandTimeout: 2_000, connectTimeout: 2_000 });
      this.redis.on('error', (error) => logger?.warn({ err: error }, 'chat redis error'));
      this.chunkLog = new RedisChunkLog(this.redis, config.chunkLogTtlSeconds * 1000);
      this.promptCache = new RedisPromptCache(this.redis, logger);
    } else {
      this.chunkLog = new StoreChunkLog(db, now);
      this.promptCache = new StorePromptCache(db, now, logger);
    }
    this.leases = new GenerationLeases(db, `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`, config.leaseMs, now);
    this.generations = new RunningGenerations(this.leases, logger);
    this.every(Math.max(1, Math.floor(config.leaseMs / 3)), () => this.heartbeat());
    this.every(SWEEP_INTERVAL_MS, () => this.sweep());
  }

  /**
   * Starts a new answer (steps 5–9) and returns it with the caller attached as its first listener;
   * for a key used before, the first request's answer with no listener attached (the caller follows
   * it, continuing it here if its replica died).
   */
  async startTurn(userId: string, input: ChatInput): Promise<{ meta: AnswerMeta; generation?: RunningGeneration }> {
    if (this.closing) throw new Error('the chat runtime is closed');
    const turn = await startChatTurn({ db: this.db, promptCache: this.promptCache, owner: this.leases.owner, leaseMs: this.config.leaseMs, now: this.now }, userId, input);
    if ('existingMessageId' in turn) {
      const meta = await this.answerMeta(turn.existingMessageId);
      if (!meta) throw new Error(`turn ${turn.existingMessageId} of an idempotency key has no generation`);
      return { meta };
    }
    const source = turn.cachedAnswer ? new CachedAnswerSource(turn.cachedAnswer.content) : this.backend;
    const start = { text: '', nextIndex: 0, maxTokens: turn.row.max_tokens };
    const generation = this.generations.start(turn.row.message_id, (signal) => runGeneration(this.generationDeps(), turn.row, source, start, signal));
    const meta = { messageId: turn.row.message_id, conversationId: turn.row.conversation_id, userId, cached: !!turn.cachedAnswer, model: turn.model };
    return { meta, generation };
  }

  /** The facts of an existing answer, or undefined when there is none. */
  async answerMeta(messageId: string): Promise<AnswerMeta | undefined> {
    const row = await this.leases.load(messageId);
    if (!row) return undefined;
    const model = await this.db.selectFrom('models').selectAll().where('id', '=', row.model_id).executeTakeFirstOrThrow();
    return { messageId, conversationId: row.conversation_id, userId: row.user_id, cached: row.cached === 1, model };
  }

  /** The answer's chunks after `after`, live until done (see followMessage). */
  follow(messageId: string, after: number, signal: AbortSignal, attached?: RunningGeneration): AsyncGenerator<StoredChunk> {
    return followMessage(this.followDeps(), messageId, after, signal, attached);
  }

  private generationDeps(): GenerationDeps {
    return {
      db: this.db, chunkLog: this.chunkLog, promptCache: this.promptCache, promptCacheTtlSeconds: this.config.promptCacheTtlSeconds,
      owner: this.leases.owner, now: this.now, logger: this.logger,
    };
  }

  private followDeps(): FollowDeps {
    return {
      chunkLog: this.chunkLog,
      leases: this.leases,
      generations: this.generations,
      pollMs: this.config.followPollMs,
      takeOver: (messageId, seen) => this.takeOver(messageId, seen),
      watch: (messageId) => this.watch(messageId),
      storedAnswer: async (messageId) =>
        (await this.db.selectFrom('messages').select('content').where('id', '=', messageId).executeTakeFirst())?.content,
    };
  }

  /** Continues, here, an answer that nobody writes: from the text its logged chunks hold. */
  private async takeOver(messageId: string, seen: number): Promise<RunningGeneration | undefined> {
    if (this.closing) return undefined;
    const row = await this.leases.acquire(messageId);
    if (!row) return undefined;
    try {
      const chunks = await this.chunkLog.readStored(messageId, -1, Number.MAX_SAFE_INTEGER);
      const intact = chunks.every((c, i) => c.index === i) && chunks.length >= seen && !(row.state === 'interrupted' && chunks.length < row.completion_tokens);
      if (!intact) throw answerInterrupted(messageId, seen - 1);
      const maxTokens = await resumeGeneration(this.db, row, chunks.length, new Date(this.now()));
      const cached = row.cached ? await this.promptCache.get(row.cache_key) : undefined;
      const source = cached ? new CachedAnswerSource(cached.content) : this.backend;
      const start = { text: chunks.map((c) => c.delta).join(''), nextIndex: chunks.length, maxTokens };
      // A replica died writing it (or everyone listening left): worth an operator's notice.
      this.logger?.warn({ messageId, from: chunks.length }, 'continuing an answer nobody was writing');
      this.stats.takeovers += 1;
      return this.generations.start(messageId, (signal) => runGeneration(this.generationDeps(), row, source, start, signal));
    } catch (error) {
      await this.leases.release(messageId);
      throw error;
    }
  }

  private watch(messageId: string): () => void {
    this.watched.set(messageId, (this.watched.get(messageId) ?? 0) + 1);
    void this.leases.watch([messageId]).catch((error) => this.logger?.warn({ err: error }, 'could not mark an answer as watched'));
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.watched.get(messageId) ?? 1) - 1;
      if (left > 0) this.watched.set(messageId, left);
      else this.watched.delete(messageId);
    };
  }

  private async heartbeat(): Promise<void> {
    await this.generations.heartbeat();
    await this.leases.watch([...this.watched.keys()]);
  }

  /** Settles answers whose replica died long ago, and drops expired chunks and cache entries from the store. */
  private async sweep(): Promise<void> {
    const now = this.now();
    const orphans = await this.db
      .selectFrom('chat_generations')
      .select(['message_id', 'user_id'])
      .where('state', '=', 'running')
      .where('lease_expires_at', '<', now - ORPHAN_AFTER_MS)
      .limit(100)
      .execute();
    for (const { message_id: messageId, user_id: userId } of orphans) {
      const written = (await this.chunkLog.readStored(messageId, -1, Number.MAX_SAFE_INTEGER)).filter((c) => !c.done).length;
      await interruptGeneration(this.db, { messageId, userId }, null, written, new Date(now));
    }
    if (this.chunkLog instanceof StoreChunkLog) await this.chunkLog.expire(this.config.chunkLogTtlSeconds * 1000);
    if (this.promptCache instanceof StorePromptCache) await this.promptCache.expire();
  }

  private every(intervalMs: number, task: () => Promise<void>): void {
    let busy = false;
    const timer = setInterval(() => {
      if (busy || this.closing) return;
      busy = true;
      task()
        .catch((error) => this.logger?.warn({ err: error }, 'chat background task failed'))
        .finally(() => (busy = false));
    }, intervalMs);
    timer.unref();
    this.timers.push(timer);
  }

  /** Stops every answer written here (each can be continued elsewhere), the timers and Redis; idempotent. */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      for (const timer of this.timers) clearInterval(timer);
      await this.generations.stopAll();
      await this.chunkLog.close();
      if (this.redis) await this.redis.quit().catch(() => this.redis?.disconnect());
    })());
  }
}
