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
 * Places an order atomically: stock check, stock decrement, order and lines commit together or not
 * at all. The same user and idempotency key return the first order unchanged, so a retried call
 * never orders (or decrements stock) twice. Replicas racing on one key are serialised and the second
 * one sees the first one's order: on SQLite the transaction takes the write lock up front
 * (WriteLockingSqliteDialect); on PostgreSQL it is SERIALIZABLE, the loser of a race on the key or
 * on an article's stock gets a serialization failure and inTransaction runs it again, when it finds
 * the winner's order or the stock that is left. The unique (user_id, idempotency_key) index backs that up.
 */
export async function placeOrder(
  db: Kysely<Database>,
  userId: string,
  input: PlaceOrderInput,
  now: Date = new Date(),
): Promise<Selectable<OrdersTable>> {
  const idempotencyKey = validate(input);
  return inTransaction(db, async (trx) => {
    const existing = await trx
      .selectFrom('orders')
      .selectAll()
      .where('user_id', '=', userId)
      .where('idempotency_key', '=', idempotencyKey)
      .executeTakeFirst();
    if (existing) return existing;

    const articleIds = input.lines.map((line) => line.articleId);
    const articles = await trx.selectFrom('articles').select(['id', 'price', 'stock']).where('id', 'in', articleIds).execute();
    const byId = new Map(articles.map((a) => [a.id, a]));
    let totalCents = 0;
    input.lines.forEach((line, i) => {
      const article = byId.get(line.articleId);
      const argument = `input.lines[${i}].articleId`;
      if (!article) throw badUserInput(`Line ${i + 1}: unknown article "${line.articleId}".`, { argument });
      if (article.stock < line.quantity) {
        throw badUserInput(
          `Line ${i + 1}: insufficient stock for article "${line.articleId}" (${article.stock} left, ${line.quantity} requested).`,
          { argument },
        );
      }
      // Integer cents: summing float prices would drift (0.1 + 0.2).
      totalCents += line.quantity * Math.round(article.price * 100);
    });

    for (const line of input.lines) {
      await trx.updateTable('articles').set((eb) => ({ stock: eb('stock', '-', line.quantity) })).where('id', '=', line.articleId).execute();
      await trx
        .updateTable('article_stats')
        .set((eb) => ({ sales: eb('sales', '+', line.quantity) }))
        .where('article_id', '=', line.articleId)
        .execute();
    }

    const order: Selectable<OrdersTable> = {
      id: `ord_${randomUUID()}`,
      user_id: userId,
      status: 'PENDING',
      total: totalCents / 100,
      created_at: now.toISOString(),
      idempotency_key: idempotencyKey,
    };
    await trx.insertInto('orders').values(order).execute();
    await trx
      .insertInto('order_lines')
      .values(
        input.lines.map((line, position) => ({
          order_id: order.id,
          position,
          article_id: line.articleId,
          quantity: line.quantity,
          unit_price: byId.get(line.articleId)!.price,
        })),
      )
      .execute();
    return order;
  });
}
