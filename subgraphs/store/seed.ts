import type { CompiledQuery, Insertable, Kysely } from 'kysely';
import { seededRandom } from './seededRandom.ts';
import type { Database, OrderStatusName, PlanName } from './tables.ts';

/** Facts about the seed that other components and tests may rely on. */
export const SEED = {
  /** The user the demo API key belongs to. */
  demoUserId: 'u1',
  /** A FREE-plan user: `npm start`'s second demo key belongs to them, to show the rate limit. */
  demoFreeUserId: 'u3',
  userIds: ['u1', 'u2', 'u3', 'u4', 'u5'],
  articleCount: 100,
  /** Orders per user. */
  orderCounts: { u1: 64, u2: 5, u3: 4, u4: 3, u5: 2 } as Record<string, number>,
  modelIds: ['m-small', 'm-medium', 'm-large'],
  defaultModelId: 'm-medium',
  /** Articles seeded with zero stock (every 25th), handy to exercise "insufficient stock". */
  outOfStockArticleIds: ['a25', 'a50', 'a75', 'a100'],
  /** Every seeded timestamp is derived from this instant, never from the clock. */
  baseDate: '2025-06-01T00:00:00.000Z',
  /** Start of the month after baseDate: when seeded quotas reset. */
  quotaResetsAt: '2025-07-01T00:00:00.000Z',
  tags: ['books', 'electronics', 'home', 'garden', 'toys', 'sports', 'music', 'kitchen'],
} as const;

/** Version written to meta.seeded; bump it when the seed changes shape. */
export const SEED_VERSION = '2';

const USERS: Array<{ id: string; name: string; email: string; plan: PlanName }> = [
  { id: 'u1', name: 'Ada Lovelace', email: 'ada@example.com', plan: 'PRO' },
  { id: 'u2', name: 'Grace Hopper', email: 'grace@example.com', plan: 'ENTERPRISE' },
  { id: 'u3', name: 'Alan Turing', email: 'alan@example.com', plan: 'FREE' },
  { id: 'u4', name: 'Katherine Johnson', email: 'katherine@example.com', plan: 'FREE' },
  { id: 'u5', name: 'Edsger Dijkstra', email: 'edsger@example.com', plan: 'PRO' },
];

/** Tokens per monthly period (prompt and completion tokens of every answer count). */
const QUOTA_LIMITS: Record<PlanName, number> = { FREE: 2_000, PRO: 200_000, ENTERPRISE: 2_000_000 };

const ADJECTIVES = ['Compact', 'Classic', 'Wireless', 'Organic', 'Vintage', 'Modular', 'Portable', 'Deluxe', 'Solar', 'Handmade'];
const NOUNS = ['Lamp', 'Notebook', 'Headphones', 'Kettle', 'Planter', 'Puzzle', 'Racket', 'Speaker', 'Skillet', 'Backpack', 'Keyboard', 'Blanket'];

const MODELS = [
  { id: 'm-small', name: 'Small', context_window: 8_192, is_default: 0 },
  { id: 'm-medium', name: 'Medium', context_window: 32_768, is_default: 1 },
  { id: 'm-large', name: 'Large', context_window: 131_072, is_default: 0 },
];

const HOUR_MS = 3_600_000;

type Rows = { [T in keyof Database]: Insertable<Database[T]>[] };

function cents(value: number): number {
  return Math.round(value * 100) / 100;
}

/** The seed as rows: same output on every call. */
export function seedRows(): Omit<Rows, 'api_keys' | 'meta' | 'chat_generations' | 'chat_chunks' | 'prompt_cache' | 'chat_usage' | 'chat_turn_keys'> {
  const random = seededRandom(20250601);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const base = Date.parse(SEED.baseDate);
  const iso = (ms: number) => new Date(ms).toISOString();

  const users = USERS.map((u, i) => ({ ...u, created_at: iso(base - (400 - i * 30) * 24 * HOUR_MS) }));
  const quotas = USERS.map((u) => {
    const limit = QUOTA_LIMITS[u.plan];
    // Up to a fifth used: the demo user starts with most of a period's allowance.
    return { user_id: u.id, limit, used: Math.floor(limit * random() * 0.2), resets_at: SEED.quotaResetsAt };
  });

  const articles: Rows['articles'] = [];
  const article_stats: Rows['article_stats'] = [];
  for (let n = 1; n <= SEED.articleCount; n++) {
    const tagCount = int(1, 3);
    const tags = new Set<string>();
    while (tags.size < tagCount) tags.add(pick(SEED.tags));
    articles.push({
      id: `a${n}`,
      title: `${pick(ADJECTIVES)} ${pick(NOUNS)} ${n}`,
      price: cents(int(199, 19_999) / 100),
      stock: n % 25 === 0 ? 0 : int(5, 200),
      tags: JSON.stringify([...tags].sort()),
    });
    article_stats.push({ article_id: `a${n}`, views: int(0, 5_000), sales: int(0, 300) });
  }
  const priceOf = new Map(articles.map((a) => [a.id, a.price]));

  const orders: Rows['orders'] = [];
  const order_lines: Rows['order_lines'] = [];
  let orderNumber = 0;
  for (const user of USERS) {
    const count = SEED.orderCounts[user.id];
    for (let k = 0; k < count; k++) {
      const id = `o${++orderNumber}`;
      const age = count - k; // older orders first, so ids grow with time within a user
      const createdAt = base - age * 37 * HOUR_MS - int(0, 59) * 60_000;
      const status: OrderStatusName =
        random() < 0.1 ? 'CANCELLED' : age > 10 ? 'SHIPPED' : age > 3 ? 'PAID' : 'PENDING';
      const lineCount = int(1, 3);
      const chosen = new Set<string>();
      while (chosen.size < lineCount) chosen.add(`a${int(1, SEED.articleCount)}`);
      let totalCents = 0;
      [...chosen].forEach((articleId, position) => {
        const quantity = int(1, 3);
        const unitPrice = priceOf.get(articleId)!;
        totalCents += quantity * Math.round(unitPrice * 100);
        order_lines.push({ order_id: id, position, article_id: articleId, quantity, unit_price: unitPrice });
      });
      orders.push({
        id,
        user_id: user.id,
        status,
        total: totalCents / 100,
        created_at: iso(createdAt),
        idempotency_key: null,
      });
    }
  }

  const conversations = [{ id: 'c1', user_id: 'u1', title: 'Welcome', created_at: iso(base - 2 * HOUR_MS) }];
  const messages = [
    { id: 'c1-0', conversation_id: 'c1', position: 0, role: 'USER' as const, content: 'Hello!', model_id: null, created_at: iso(base - 2 * HOUR_MS) },
    {
      id: 'c1-1', conversation_id: 'c1', position: 1, role: 'ASSISTANT' as const,
      content: 'Hello Ada, how can I help you today?', model_id: 'm-medium', created_at: iso(base - 2 * HOUR_MS),
    },
  ];

  return { users, quotas, articles, article_stats, orders, order_lines, models: MODELS, conversations, messages };
}

/** The seed as compiled inserts, chunked to stay far below SQLite's bound-parameter limit. */
export function seedStatements(db: Kysely<Database>): CompiledQuery[] {
  const statements: CompiledQuery[] = [];
  const rows = seedRows();
  for (const table of Object.keys(rows) as Array<keyof typeof rows>) {
    const all = rows[table] as Insertable<Database[typeof table]>[];
    for (let i = 0; i < all.length; i += 100) {
      statements.push(db.insertInto(table).values(all.slice(i, i + 100) as never).compile());
    }
  }
  statements.push(db.insertInto('meta').values({ key: 'seeded', value: SEED_VERSION }).compile());
  return statements;
}
