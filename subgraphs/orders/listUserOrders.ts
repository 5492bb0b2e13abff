import type { Kysely, Selectable } from 'kysely';
import type { Database, OrdersTable } from '../store/tables.ts';

export interface ListUserOrdersOptions {
  userId: string;
  /** Rows to return. */
  limit: number;
  /** Only orders older than this one (keyset pagination on created_at, id). */
  after?: Pick<Selectable<OrdersTable>, 'created_at' | 'id'>;
}

/** One page of a user's orders, newest first. */
export function listUserOrders(db: Kysely<Database>, options: ListUserOrdersOptions): Promise<Selectable<OrdersTable>[]> {
  const { userId, limit, after } = options;
  let query = db.selectFrom('orders').selectAll().where('user_id', '=', userId);
  if (after) {
    query = query.where((eb) =>
      eb.or([eb('created_at', '<', after.created_at), eb.and([eb('created_at', '=', after.created_at), eb('id', '<', after.id)])]),
    );
  }
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

/** How many orders a user has (the connection's totalCount). */
export async function countUserOrders(db: Kysely<Database>, userId: string): Promise<number> {
  const row = await db
    .selectFrom('orders')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}
