import type { Selectable } from 'kysely';
import type { OrderLinesTable, OrdersTable } from '../store/tables.ts';
import { decodeCursor, encodeCursor, pageSize, unknownCursor } from '../pagination.ts';
import { requireUserId, type SubgraphContext } from '../subgraphContext.ts';
import type { SubgraphResolvers } from '../subgraphDefinition.ts';
import { countUserOrders, listUserOrders } from './listUserOrders.ts';
import type { OrdersLoaders } from './loaders.ts';
import { placeOrder, type PlaceOrderInput } from './placeOrder.ts';

type Context = SubgraphContext<OrdersLoaders>;

function toOrder(row: Selectable<OrdersTable>) {
  return { id: row.id, userId: row.user_id, status: row.status, total: row.total, createdAt: row.created_at };
}

function toOrderLine(row: Selectable<OrderLinesTable>) {
  // Article belongs to the articles subgraph: hand the gateway a reference, it fetches the rest.
  return { article: { __typename: 'Article', id: row.article_id }, quantity: row.quantity, unitPrice: row.unit_price };
}

/** The caller's order, or null: another user's order is indistinguishable from a missing one. */
async function ownOrder(context: Context, id: string) {
  const userId = requireUserId(context);
  const row = await context.loaders.orderById.load(id);
  return row && row.user_id === userId ? row : null;
}

/** Resolvers of the orders subgraph: a user's orders and placing new ones. */
export const ordersResolvers: SubgraphResolvers<Context> = {
  Query: {
    myOrders: async (_source: unknown, args: { first?: number | null; after?: string | null }, context: Context) => {
      const userId = requireUserId(context);
      const first = pageSize(args.first);
      let after: Selectable<OrdersTable> | undefined;
      if (args.after != null) after = (await ownOrder(context, decodeCursor('order', args.after))) ?? unknownCursor();
      const rows = await listUserOrders(context.db, { userId, limit: first + 1, after });
      const page = rows.slice(0, first);
      for (const row of page) context.loaders.orderById.prime(row.id, row);
      const edges = page.map((row) => ({ cursor: encodeCursor('order', row.id), node: toOrder(row) }));
      return {
        edges,
        pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null },
        totalCount: () => countUserOrders(context.db, userId),
      };
    },
    order: async (_source: unknown, args: { id: string }, context: Context) => {
      const row = await ownOrder(context, args.id);
      return row && toOrder(row);
    },
  },
  Mutation: {
    placeOrder: async (_source: unknown, args: { input: PlaceOrderInput }, context: Context) => {
      const row = await placeOrder(context.db, requireUserId(context), args.input);
      return toOrder(row);
    },
  },
  Order: {
    __resolveReference: async (reference: { id: string }, context: Context) => {
      const row = await ownOrder(context, reference.id);
      return row && toOrder(row);
    },
    lines: async (order: { id: string }, _args: unknown, context: Context) => {
      const rows = await context.loaders.linesByOrderId.load(order.id);
      return rows.map(toOrderLine);
    },
  },
};
