import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { badUserInput } from '../../lib/errors.ts';
import { inTransaction } from '../store/inTransaction.ts';
import type { Database, OrdersTable } from '../store/tables.ts';

export interface PlaceOrderInput {
  idempotencyKey: string;
  lines: Array<{ articleId: string; quantity: number }>;
}

/** Bounds that keep one order sane; beyond them the input is a mistake, not a big order. */
const MAX_LINES = 50;
const MAX_QUANTITY = 10_000;
// The key's length limit is in the SDL description, enforced before any resolver (stringArgumentLimits).

/** Checks the shape of the input before any store access. */
function validate(input: PlaceOrderInput): string {
  const key = input.idempotencyKey.trim();
  if (!key) throw badUserInput('"idempotencyKey" must not be empty.', { argument: 'input.idempotencyKey' });
  if (input.lines.length === 0) throw badUserInput('An order needs at least one line.', { argument: 'input.lines' });
  if (input.lines.length > MAX_LINES) throw badUserInput(`An order has at most ${MAX_LINES} lines.`, { argument: 'input.lines' });
  const seen = new Set<string>();
  input.lines.forEach((line, i) => {
    const argument = `input.lines[${i}]`;
    if (!Number.isInteger(line.quantity) || line.quantity <= 0 || line.quantity > MAX_QUANTITY) {
      throw badUserInput(`Line ${i + 1}: quantity must be between 1 and ${MAX_QUANTITY}, got ${line.quantity}.`, { argument });
    }
    if (seen.has(line.articleId)) {
      throw badUserInput(`Line ${i + 1}: article "${line.articleId}" appears twice; put the whole quantity on one line.`, { argument });
    }
    seen.add(line.articleId);
  });
  return key;
}

/**
 * Places an order atomically, with no read-then-write for anything another order can change, so a
 * flash sale needs no retry at all (on PostgreSQL it runs under READ COMMITTED):
 * - the order row is inserted first, claiming the user's idempotency key: a concurrent call with the
 *   same key waits on the unique (user_id, idempotency_key) index and, once the first commits, fails
 *   with a unique violation, after which it returns the winner's order, changing nothing;
 * - each line takes its stock with one conditional `UPDATE … SET stock = stock - n WHERE stock >= n`:
 *   a concurrent order of the same article waits for the row and re-checks the condition, so stock
 *   never goes negative and no transaction fails for having read a stale count. Lines are taken in
 *   article id order, so two orders sharing articles cannot deadlock;
 * - a line whose article is missing or short rolls everything back with BAD_USER_INPUT.
 * The same user and key return the first order unchanged: a retried call never orders twice.
 */
export async function placeOrder(
  db: Kysely<Database>,
  userId: string,
  input: PlaceOrderInput,
  now: Date = new Date(),
): Promise<Selectable<OrdersTable>> {
  const idempotencyKey = validate(input);
  const existing = () =>
    db.selectFrom('orders').selectAll().where('user_id', '=', userId).where('idempotency_key', '=', idempotencyKey).executeTakeFirst();
  const first = await existing();
  if (first) return first;
  try {
    return await inTransaction(db, (trx) => takeOrder(trx, userId, idempotencyKey, input, now), { isolation: 'read committed' });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    // Another call with this key committed first: its order is the answer to this one too.
    const winner = await existing();
    if (!winner) throw error;
    return winner;
  }
}

async function takeOrder(trx: Kysely<Database>, userId: string, idempotencyKey: string, input: PlaceOrderInput, now: Date): Promise<Selectable<OrdersTable>> {
  const order: Selectable<OrdersTable> = {
    id: `ord_${randomUUID()}`,
    user_id: userId,
    status: 'PENDING',
    total: 0,
    created_at: now.toISOString(),
    idempotency_key: idempotencyKey,
  };
  await trx.insertInto('orders').values(order).execute();

  const prices = new Map<string, number>();
  const byArticle = input.lines.map((line, i) => ({ ...line, i })).sort((a, b) => (a.articleId < b.articleId ? -1 : a.articleId > b.articleId ? 1 : 0));
  for (const line of byArticle) {
    const taken = await trx
      .updateTable('articles')
      .set((eb) => ({ stock: eb('stock', '-', line.quantity) }))
      .where('id', '=', line.articleId)
      .where('stock', '>=', line.quantity)
      .returning(['price'])
      .executeTakeFirst();
    if (!taken) throw await refusedLine(trx, line);
    prices.set(line.articleId, taken.price);
    await trx
      .updateTable('article_stats')
      .set((eb) => ({ sales: eb('sales', '+', line.quantity) }))
      .where('article_id', '=', line.articleId)
      .execute();
  }

  // Integer cents: summing float prices would drift (0.1 + 0.2).
  const totalCents = input.lines.reduce((sum, line) => sum + line.quantity * Math.round(prices.get(line.articleId)! * 100), 0);
  order.total = totalCents / 100;
  await trx.updateTable('orders').set({ total: order.total }).where('id', '=', order.id).execute();
  await trx
    .insertInto('order_lines')
    .values(
      input.lines.map((line, position) => ({
        order_id: order.id,
        position,
        article_id: line.articleId,
        quantity: line.quantity,
        unit_price: prices.get(line.articleId)!,
      })),
    )
    .execute();
  return order;
}

/** Why a line's stock could not be taken: no such article, or too little left (as this transaction sees it). */
async function refusedLine(trx: Kysely<Database>, line: { articleId: string; quantity: number; i: number }): Promise<Error> {
  const article = await trx.selectFrom('articles').select('stock').where('id', '=', line.articleId).executeTakeFirst();
  if (!article) return badUserInput(`Line ${line.i + 1}: unknown article "${line.articleId}".`, { argument: `input.lines[${line.i}].articleId` });
  return badUserInput(
    `Line ${line.i + 1}: insufficient stock for article "${line.articleId}" (${article.stock} left, ${line.quantity} requested).`,
    { argument: `input.lines[${line.i}].articleId` },
  );
}

/** A unique index refused the row: PostgreSQL's 23505, SQLite's SQLITE_CONSTRAINT_UNIQUE. */
function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}
