import type { Kysely } from 'kysely';
import type { Database } from '../store/tables.ts';
import { groupedLoader } from '../groupedLoader.ts';
import { keyedLoader } from '../keyedLoader.ts';

/** Per-request DataLoaders of the orders subgraph. */
export function createOrdersLoaders(db: Kysely<Database>) {
  return {
    orderById: keyedLoader(
      (ids: readonly string[]) => db.selectFrom('orders').selectAll().where('id', 'in', ids).execute(),
      (row) => row.id,
    ),
    /** Lines of many orders in one query: a page of 50 orders costs one order_lines round-trip. */
    linesByOrderId: groupedLoader(
      (orderIds: readonly string[]) =>
        db.selectFrom('order_lines').selectAll().where('order_id', 'in', orderIds).orderBy('order_id').orderBy('position').execute(),
      (row) => row.order_id,
    ),
  };
}

export type OrdersLoaders = ReturnType<typeof createOrdersLoaders>;
