import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRINCIPAL_HEADER, signPrincipal } from '../../../lib/principal.ts';
import { SEED } from '../../../subgraphs/store/seed.ts';
import { TEST_DEMO_KEY, TEST_SECRET, asPrincipal, startSubgraphs, type SubgraphHarness } from './subgraphHarness.ts';

let harness: SubgraphHarness;
const u1 = asPrincipal({ userId: 'u1', scopes: ['orders:write', 'chat'] });
const u2 = asPrincipal({ userId: 'u2', scopes: [] });
const anonymousSigned = asPrincipal({ scopes: [] });

beforeAll(async () => {
  harness = await startSubgraphs(['auth', 'users', 'quota', 'orders', 'articles', 'analytics', 'chat']);
});

afterAll(async () => {
  await harness?.dispose();
});

const codes = (errors: Array<{ extensions?: Record<string, unknown> }> | undefined) => (errors ?? []).map((e) => e.extensions?.code);

describe('identity subgraphs', () => {
  it('answers me with UNAUTHENTICATED for the signed anonymous principal', async () => {
    const { body } = await harness.post('users', '{ me { id name } }', undefined, anonymousSigned);
    expect(body.data).toEqual({ me: null });
    expect(codes(body.errors)).toEqual(['UNAUTHENTICATED']);
  });

  it('refuses an unsigned request with 401, public fields included', async () => {
    for (const [name, query] of [['users', '{ me { id } }'], ['articles', '{ article(id: "a1") { id } }']] as const) {
      const { status, body } = await harness.post(name, query, undefined, {});
      expect(status).toBe(401);
      expect(body.data).toBeUndefined();
      expect(codes(body.errors)).toEqual(['UNAUTHENTICATED']);
    }
  });

  it('answers me for a signed principal', async () => {
    const { body } = await harness.post('users', '{ me { id name email plan } }', undefined, u1);
    expect(body.errors).toBeUndefined();
    expect(body.data!.me).toEqual({ id: 'u1', name: 'Ada Lovelace', email: 'ada@example.com', plan: 'PRO' });
  });

  it('refuses a forged or tampered principal with 401', async () => {
    const forged = { [PRINCIPAL_HEADER]: signPrincipal({ userId: 'u1', scopes: [] }, 'not-the-real-secret-0123456789') };
    const [version, , signature] = signPrincipal({ userId: 'u2', scopes: [] }, TEST_SECRET).split('.');
    const payload = Buffer.from(JSON.stringify({ userId: 'u1', scopes: [], iss: 'router', exp: Date.now() + 60_000 })).toString('base64url');
    const tampered = { [PRINCIPAL_HEADER]: `${version}.${payload}.${signature}` };
    for (const headers of [forged, tampered]) {
      const { status, body } = await harness.post('users', '{ me { id } }', undefined, headers);
      expect(status).toBe(401);
      expect(codes(body.errors)).toEqual(['UNAUTHENTICATED']);
    }
  });

  it('_internalAuthenticate refuses unsigned calls and resolves the demo key for signed ones', async () => {
    const query = 'query ($key: String!) { _internalAuthenticate(apiKey: $key) { userId scopes } }';
    const unsigned = await harness.post('auth', query, { key: TEST_DEMO_KEY }, {});
    expect(unsigned.status).toBe(401);
    expect(unsigned.body.data).toBeUndefined();
    expect(codes(unsigned.body.errors)).toEqual(['UNAUTHENTICATED']);

    const signed = await harness.post('auth', query, { key: TEST_DEMO_KEY }, anonymousSigned);
    expect(signed.body.errors).toBeUndefined();
    expect(signed.body.data!._internalAuthenticate).toEqual({ userId: SEED.demoUserId, scopes: ['chat', 'orders:write'] });

    const unknown = await harness.post('auth', query, { key: 'not-a-key-0123456789' }, anonymousSigned);
    expect(unknown.body).toEqual({ data: { _internalAuthenticate: null } });
  });

  it('shows API keys (never the secret) to their owner only', async () => {
    const query = '{ _entities(representations: [{ __typename: "User", id: "u1" }]) { ... on User { apiKeys { id label prefix } } } }';
    const own = await harness.post('auth', query, undefined, u1);
    expect(own.body.errors).toBeUndefined();
    const keys = own.body.data!._entities[0].apiKeys as Array<{ label: string; prefix: string }>;
    expect(keys).toHaveLength(1);
    expect(keys[0].label).toBe('demo');
    expect(TEST_DEMO_KEY.startsWith(keys[0].prefix)).toBe(true);
    expect(keys[0].prefix.length).toBeLessThan(TEST_DEMO_KEY.length / 2);

    const other = await harness.post('auth', query, undefined, u2);
    expect(codes(other.body.errors)).toEqual(['FORBIDDEN']);
  });

  it('serves the quota of the caller with remaining = limit - used', async () => {
    const query = '{ _entities(representations: [{ __typename: "User", id: "u1" }]) { ... on User { quota { limit used remaining resetsAt } } } }';
    const { body } = await harness.post('quota', query, undefined, u1);
    expect(body.errors).toBeUndefined();
    const quota = body.data!._entities[0].quota;
    expect(quota.limit).toBe(200_000); // u1 is on the PRO plan: tokens per month
    expect(quota.remaining).toBe(Math.max(0, quota.limit - quota.used));
    expect(Date.parse(quota.resetsAt)).toBeGreaterThan(Date.now());
    expect(new Date(quota.resetsAt).getUTCDate()).toBe(1);
  });
});

describe('orders', () => {
  const placeOrder = /* GraphQL */ `
    mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { id userId status total lines { quantity unitPrice article { id } } } }
  `;
  const stockOf = async (id: string) =>
    (await harness.post('articles', 'query ($id: ID!) { article(id: $id) { stock price } }', { id })).body.data!.article as {
      stock: number;
      price: number;
    };

  it('places an order once per idempotency key', async () => {
    const before = await stockOf('a3');
    const input = { idempotencyKey: 'test-once-1', lines: [{ articleId: 'a3', quantity: 2 }] };
    const first = await harness.post('orders', placeOrder, { input }, u1);
    const second = await harness.post('orders', placeOrder, { input }, u1);

    expect(first.body.errors).toBeUndefined();
    expect(second.body.errors).toBeUndefined();
    const order = first.body.data!.placeOrder;
    expect(second.body.data!.placeOrder).toEqual(order);
    expect(order).toMatchObject({ userId: 'u1', status: 'PENDING', total: Math.round(2 * before.price * 100) / 100 });
    expect(order.lines).toEqual([{ quantity: 2, unitPrice: before.price, article: { id: 'a3' } }]);
    expect((await stockOf('a3')).stock).toBe(before.stock - 2);
    const stored = await harness.store.db.selectFrom('orders').select('id').where('idempotency_key', '=', 'test-once-1').execute();
    expect(stored).toEqual([{ id: order.id }]);

    // The same key of another user is another order.
    const other = await harness.post('orders', placeOrder, { input }, u2);
    expect(other.body.data!.placeOrder.id).not.toBe(order.id);
    expect((await stockOf('a3')).stock).toBe(before.stock - 4);
  });

  it('rejects bad input with BAD_USER_INPUT and changes nothing', async () => {
    const before = await stockOf('a4');
    const cases = [
      { idempotencyKey: 'bad-1', lines: [{ articleId: 'a4', quantity: 0 }] },
      { idempotencyKey: 'bad-2', lines: [] },
      { idempotencyKey: 'bad-3', lines: [{ articleId: 'a4', quantity: 1 }, { articleId: 'no-such-article', quantity: 1 }] },
      { idempotencyKey: 'bad-4', lines: [{ articleId: 'a4', quantity: 1 }, { articleId: SEED.outOfStockArticleIds[0], quantity: 1 }] },
      { idempotencyKey: '  ', lines: [{ articleId: 'a4', quantity: 1 }] },
    ];
    for (const input of cases) {
      const { body } = await harness.post('orders', placeOrder, { input }, u1);
      expect(codes(body.errors), JSON.stringify(input)).toEqual(['BAD_USER_INPUT']);
      expect(body.data).toBeNull();
    }
    expect((await stockOf('a4')).stock).toBe(before.stock);
    const { body } = await harness.post('orders', placeOrder, { input: cases[3] }, u1);
    expect(body.errors![0].message).toMatch(/insufficient stock for article "a25"/);
  });

  it('requires a principal and hides other users’ orders', async () => {
    const anonymous = await harness.post('orders', '{ myOrders { totalCount } }');
    expect(codes(anonymous.body.errors)).toEqual(['UNAUTHENTICATED']);

    const foreign = await harness.store.db.selectFrom('orders').select('id').where('user_id', '=', 'u2').executeTakeFirstOrThrow();
    const { body } = await harness.post('orders', 'query ($id: ID!) { order(id: $id) { id } }', { id: foreign.id }, u1);
    expect(body).toEqual({ data: { order: null } });
  });

  it('pages myOrders newest first', async () => {
    const query = 'query ($after: String) { myOrders(first: 10, after: $after) { totalCount edges { node { createdAt } } pageInfo { hasNextPage endCursor } } }';
    const first = (await harness.post('orders', query, {}, u1)).body.data!.myOrders;
    const second = (await harness.post('orders', query, { after: first.pageInfo.endCursor }, u1)).body.data!.myOrders;
    const dates = [...first.edges, ...second.edges].map((e: { node: { createdAt: string } }) => e.node.createdAt);
    expect(dates).toEqual([...dates].sort().reverse());
    expect(first.totalCount).toBeGreaterThanOrEqual(SEED.orderCounts.u1);
    expect(second.pageInfo.hasNextPage).toBe(true);
  });
});
