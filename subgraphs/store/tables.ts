/**
 * Row shapes of every table the subgraphs share. Columns are snake_case as stored; JSON columns hold
 * text so the same schema works on SQLite and PostgreSQL. Money is stored as REAL rounded to cents.
 */

export type PlanName = 'FREE' | 'PRO' | 'ENTERPRISE';
export type OrderStatusName = 'PENDING' | 'PAID' | 'SHIPPED' | 'CANCELLED';
export type MessageRole = 'SYSTEM' | 'USER' | 'ASSISTANT';

export interface UsersTable {
  id: string;
  name: string;
  email: string;
  plan: PlanName;
  created_at: string;
}

export interface ApiKeysTable {
  id: string;
  /** sha256 hex of the key; the key itself is never stored. */
  key_hash: string;
  prefix: string;
  label: string;
  user_id: string;
  /** JSON array of scope strings. */
  scopes: string;
  created_at: string;
}

export interface QuotasTable {
  user_id: string;
  limit: number;
  used: number;
  resets_at: string;
}

export interface ArticlesTable {
  id: string;
  title: string;
  price: number;
  stock: number;
  /** JSON array of tag strings. */
  tags: string;
}

export interface ArticleStatsTable {
  article_id: string;
  views: number;
  sales: number;
}

export interface OrdersTable {
  id: string;
  user_id: string;
  status: OrderStatusName;
  total: number;
  created_at: string;
  /** Unique per user; null for orders placed without one (the seed). */
  idempotency_key: string | null;
}

export interface OrderLinesTable {
  order_id: string;
  position: number;
  article_id: string;
  quantity: number;
  unit_price: number;
}

export interface ModelsTable {
  id: string;
  name: string;
  context_window: number;
  /** 0 or 1: SQLite has no boolean type. */
  is_default: number;
}

export interface ConversationsTable {
  id: string;
  user_id: string;
  title: string;
  created_at: string;
}

export interface MessagesTable {
  id: string;
  conversation_id: string;
  /** Order inside the conversation: two messages of one turn can share a timestamp. */
  position: number;
  role: MessageRole;
  content: string;
  model_id: string | null;
  created_at: string;
}

export type GenerationState = 'running' | 'interrupted' | 'done';

/**
 * One streamed answer, from its first token until it is stored: who may continue it (the lease),
 * what was asked (so another replica can continue), and what the quota holds for it.
 */
export interface ChatGenerationsTable {
  /** The assistant message this generation writes. */
  message_id: string;
  conversation_id: string;
  user_id: string;
  model_id: string;
  /** Position the assistant message takes in its conversation. */
  assistant_position: number;
  /** JSON array of { role, content }: exactly what the model is asked, context and prompt. */
  request: string;
  /** Prompt-cache key of the request. */
  cache_key: string;
  /** 0 or 1: answered from the prompt cache. */
  cached: number;
  prompt_tokens: number;
  /** Most completion tokens this answer may use (model and quota permitting). */
  max_tokens: number;
  state: GenerationState;
  /** Replica running it; null when nobody does. */
  lease_owner: string | null;
  /** Epoch ms after which the owner counts as dead unless it renewed. */
  lease_expires_at: number;
  /** Epoch ms until which a follower on another replica wants it to go on. */
  watched_until: number;
  /** Tokens held on the quota for the rest of the answer. */
  reserved_tokens: number;
  /** Tokens already charged for it. */
  charged_tokens: number;
  completion_tokens: number;
  finish_reason: string | null;
  /** Epoch ms the request arrived; latency is measured from here. */
  started_at: number;
}

/** One streamed chunk of an answer (the store-backed chunk log; Redis Streams hold the same when configured). */
export interface ChatChunksTable {
  message_id: string;
  idx: number;
  delta: string;
  /** 0 or 1. */
  done: number;
  finish_reason: string | null;
  /** JSON { promptTokens, completionTokens, totalTokens } on the last chunk. */
  usage: string | null;
  /** Epoch ms, for expiry. */
  created_at: number;
}

/** Prompt cache in the store, used when no Redis is configured. */
export interface PromptCacheTable {
  key: string;
  /** JSON of the cached answer. */
  value: string;
  /** Epoch ms. */
  expires_at: number;
}

/** What each answer cost, for analytics (myChatUsage). */
/** A chat turn's idempotency key: the same user and key find the answer the first request started. */
export interface ChatTurnKeysTable {
  user_id: string;
  idempotency_key: string;
  message_id: string;
}

export interface ChatUsageTable {
  message_id: string;
  user_id: string;
  conversation_id: string;
  model_id: string;
  prompt_tokens: number;
  completion_tokens: number;
  /** 0 or 1. */
  cached: number;
  /** From the request to the last chunk, ms. */
  latency_ms: number;
  finish_reason: string;
  created_at: string;
}

export interface MetaTable {
  key: string;
  value: string;
}

/** The Kysely database type of the shared store. */
export interface Database {
  users: UsersTable;
  api_keys: ApiKeysTable;
  quotas: QuotasTable;
  articles: ArticlesTable;
  article_stats: ArticleStatsTable;
  orders: OrdersTable;
  order_lines: OrderLinesTable;
  models: ModelsTable;
  conversations: ConversationsTable;
  messages: MessagesTable;
  chat_generations: ChatGenerationsTable;
  chat_chunks: ChatChunksTable;
  prompt_cache: PromptCacheTable;
  chat_usage: ChatUsageTable;
  chat_turn_keys: ChatTurnKeysTable;
  meta: MetaTable;
}
