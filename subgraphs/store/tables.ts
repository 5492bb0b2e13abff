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
  meta: MetaTable;
}
