import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asPrincipal, startSubgraphs, type SubgraphHarness } from './subgraphHarness.ts';

// N entities must cost one store query per entity type, not N: the DataLoaders batch per request.
let harness: SubgraphHarness;

beforeAll(async () => {
  harness = await startSubgraphs(['articles', 'orders']);
});

afterAll(async () => {
  await harness?.dispose();
});

const ARTICLE_ENTITIES = /* GraphQL */ `
  query ($representations: [_Any!]!) {
    _entities(representations: $representations) { ... on Article { id title price stock tags } }
  }
`;

const ORDER_ENTITIES = /* GraphQL */ `
  query ($representations: [_Any!]!) {
    _entities(representations: $representations) { ... on Order { id userId total lines { quantity unitPrice article { id } } } }
  }
`;

describe('DataLoader batching', () => {
  it('resolves 50 Article references with one articles query', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => `a${i + 1}`);
    const expected = await harness.store.db.selectFrom('articles').selectAll().where('id', 'in', ids).execute();
    harness.resetQueryCounts();

    const { status, body } = await harness.post('articles', ARTICLE_ENTITIES, {
      representations: ids.map((id) => ({ __typename: 'Article', id })),
    });

    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(harness.queries.articles).toBe(1);
    const entities = body.data!._entities as Array<{ id: string; title: string; price: number; stock: number; tags: string[] }>;
    expect(entities.map((e) => e.id)).toEqual(ids);
    const byId = new Map(expected.map((row) => [row.id, row]));
    for (const entity of entities) {
      const row = byId.get(entity.id)!;
      expect(entity).toEqual({ id: row.id, title: row.title, price: row.price, stock: row.stock, tags: JSON.parse(row.tags) });
    }
  });

  it('keeps order and nulls unknown ids inside one batch', async () => {
    harness.resetQueryCounts();
    const { body } = await harness.post('articles', ARTICLE_ENTITIES, {
      representations: [{ __typename: 'Article', id: 'a7' }, { __typename: 'Article', id: 'nope' }, { __typename: 'Article', id: 'a7' }],
    });
    expect(harness.queries.articles).toBe(1);
    expect((body.data!._entities as Array<{ id: string } | null>).map((e) => e?.id ?? null)).toEqual(['a7', null, 'a7']);
  });

  it('lists 50 orders with their lines using one order_lines query', async () => {
    harness.resetQueryCounts();
    const { body } = await harness.post(
      'orders',
      /* GraphQL */ `{ myOrders(first: 50) { edges { node { id lines { quantity article { id } } } } } }`,
      undefined,
      asPrincipal({ userId: 'u1', scopes: [] }),
    );

    expect(body.errors).toBeUndefined();
    const orders = body.data!.myOrders.edges.map((e: { node: unknown }) => e.node) as Array<{
      id: string;
      lines: Array<{ quantity: number; article: { id: string } }>;
    }>;
    expect(orders).toHaveLength(50);
    expect(harness.queries.order_lines).toBe(1);
    // The page itself is one query too (totalCount was not asked for, so no count query).
    expect(harness.queries.orders).toBe(1);

    const stored = await harness.store.db
      .selectFrom('order_lines')
      .selectAll()
      .where('order_id', 'in', orders.map((o) => o.id))
      .orderBy('order_id')
      .orderBy('position')
      .execute();
    for (const order of orders) {
      const lines = stored.filter((row) => row.order_id === order.id);
      expect(lines.length).toBeGreaterThanOrEqual(1);
      expect(order.lines).toEqual(lines.map((row) => ({ quantity: row.quantity, article: { id: row.article_id } })));
    }
  });

  it('resolves Order references in one orders query and one order_lines query', async () => {
    const own = await harness.store.db.selectFrom('orders').select(['id', 'total']).where('user_id', '=', 'u1').limit(20).execute();
    const foreign = await harness.store.db.selectFrom('orders').select('id').where('user_id', '=', 'u2').executeTakeFirstOrThrow();
    harness.resetQueryCounts();

    const { body } = await harness.post(
      'orders',
      ORDER_ENTITIES,
      { representations: [...own, foreign].map(({ id }) => ({ __typename: 'Order', id })) },
      asPrincipal({ userId: 'u1', scopes: [] }),
    );

    expect(body.errors).toBeUndefined();
    expect(harness.queries.orders).toBe(1);
    expect(harness.queries.order_lines).toBe(1);
    const entities = body.data!._entities as Array<{ id: string; userId: string; total: number; lines: unknown[] } | null>;
    expect(entities.slice(0, 20).map((e) => [e!.id, e!.userId, e!.total])).toEqual(own.map((o) => [o.id, 'u1', o.total]));
    for (const entity of entities.slice(0, 20)) expect(entity!.lines.length).toBeGreaterThanOrEqual(1);
    // Another user's order resolves to null: references never leak across users.
    expect(entities[20]).toBeNull();
  });
});
