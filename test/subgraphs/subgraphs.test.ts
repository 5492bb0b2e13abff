import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRINCIPAL_HEADER, signPrincipal } from '../../lib/principal.ts';
import { openDatabase } from '../../lib/store/openDatabase.ts';
import { SEED } from '../../lib/store/seed.ts';
import { startSubgraph } from '../../subgraphs/subgraphServer.ts';
import { postGraphQL } from '../support/graphqlClient.ts';
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
  it('answers me with UNAUTHENTICATED when no principal is sent', async () => {
    const { body } = await harness.post('users', '{ me { id name } }');
    expect(body.data).toEqual({ me: null });
    expect(codes(body.errors)).toEqual(['UNAUTHENTICATED']);
  });

  it('answers me for a signed principal', async () => {
    const { body } = await harness.post('users', '{ me { id name email plan } }', undefined, u1);
    expect(body.errors).toBeUndefined();
    expect(body.data!.me).toEqual({ id: 'u1', name: 'Ada Lovelace', email: 'ada@example.com', plan: 'PRO' });
  });

  it('treats a forged or tampered principal as anonymous', async () => {
    const forged = { [PRINCIPAL_HEADER]: signPrincipal({ userId: 'u1', scopes: [] }, 'not-the-real-secret-0123456789') };
    const [version, , signature] = signPrincipal({ userId: 'u2', scopes: [] }, TEST_SECRET).split('.');
    const payload = Buffer.from(JSON.stringify({ userId: 'u1', scopes: [], iss: 'router', exp: Date.now() + 60_000 })).toString('base64url');
    const tampered = { [PRINCIPAL_HEADER]: `${version}.${payload}.${signature}` };
    for (const headers of [forged, tampered]) {
      const { body } = await harness.post('users', '{ me { id } }', undefined, headers);
      expect(codes(body.errors)).toEqual(['UNAUTHENTICATED']);
    }
  });

  it('_internalAuthenticate refuses unsigned calls and resolves the demo key for signed ones', async () => {
    const query = 'query ($key: String!) { _internalAuthenticate(apiKey: $key) { userId scopes } }';
    const unsigned = await harness.post('auth', query, { key: TEST_DEMO_KEY });
    expect(unsigned.body.data).toEqual({ _internalAuthenticate: null });
    expect(codes(unsigned.body.errors)).toEqual(['FORBIDDEN']);

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

describe('articles and analytics', () => {
  const page = 'query ($first: Int, $after: String, $tag: String) { articles(first: $first, after: $after, tag: $tag) { totalCount edges { cursor node { id tags } } pageInfo { hasNextPage endCursor } } }';

  it('pages the catalog in id order without overlap', async () => {
    const first = (await harness.post('articles', page, { first: 3 })).body.data!.articles;
    expect(first.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(['a1', 'a2', 'a3']);
    expect(first.totalCount).toBe(SEED.articleCount);
    expect(first.pageInfo).toEqual({ hasNextPage: true, endCursor: first.edges[2].cursor });

    const next = (await harness.post('articles', page, { first: 3, after: first.pageInfo.endCursor })).body.data!.articles;
    expect(next.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(['a4', 'a5', 'a6']);

    const last = (await harness.post('articles', page, { first: 5, after: first.edges[0].cursor.replace(/.*/, Buffer.from('article:a98').toString('base64url')) })).body.data!.articles;
    expect(last.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(['a99', 'a100']);
    expect(last.pageInfo.hasNextPage).toBe(false);
  });

  it('filters by tag', async () => {
    const tagged = (await harness.post('articles', page, { first: 100, tag: 'books' })).body.data!.articles;
    const expected = (await harness.store.db.selectFrom('articles').select('tags').execute()).filter((row) => JSON.parse(row.tags).includes('books'));
    expect(tagged.totalCount).toBe(expected.length);
    expect(tagged.edges).toHaveLength(expected.length);
    for (const edge of tagged.edges) expect(edge.node.tags).toContain('books');
  });

  it('rejects malformed and unknown cursors and out-of-range page sizes', async () => {
    const attempts = [
      { first: 3, after: 'not a cursor!' },
      { first: 3, after: Buffer.from('order:o1').toString('base64url') },
      { first: 3, after: Buffer.from('article:zzz').toString('base64url') },
      { first: 101 },
      { first: -1 },
    ];
    for (const variables of attempts) {
      const { body } = await harness.post('articles', page, variables);
      expect(codes(body.errors), JSON.stringify(variables)).toEqual(['BAD_USER_INPUT']);
    }
  });

  it('ranks topArticles by the chosen metric', async () => {
    const { body } = await harness.post('analytics', '{ topArticles(first: 5, by: SALES) { id sales views } }');
    const top = body.data!.topArticles as Array<{ id: string; sales: number }>;
    const stored = await harness.store.db.selectFrom('article_stats').select('sales').orderBy('sales', 'desc').limit(5).execute();
    expect(top.map((a) => a.sales)).toEqual(stored.map((r) => r.sales));
  });
});

describe('chat', () => {
  const chat = /* GraphQL */ `
    mutation ($input: ChatInput!) { chat(input: $input) { conversation { id title messages { role content model { id } } } message { role content model { id } } } }
  `;

  it('answers the same prompt to the same model with the same reply', async () => {
    const prompt = 'How should I structure a federated graph?';
    const a = (await harness.post('chat', chat, { input: { prompt, model: 'm-small' } }, u1)).body.data!.chat;
    const b = (await harness.post('chat', chat, { input: { prompt, model: 'm-small' } }, u1)).body.data!.chat;
    const c = (await harness.post('chat', chat, { input: { prompt, model: 'm-large' } }, u1)).body.data!.chat;

    expect(a.conversation.id).not.toBe(b.conversation.id);
    expect(a.message.content).toBe(b.message.content);
    expect(c.message.content).not.toBe(a.message.content);
    expect(a.message).toMatchObject({ role: 'ASSISTANT', model: { id: 'm-small' } });
    expect(a.conversation.title).toBe('How should I structure a federated');
    expect(a.conversation.messages.map((m: { role: string }) => m.role)).toEqual(['USER', 'ASSISTANT']);
  });

  it('continues a conversation and keeps it private', async () => {
    const started = (await harness.post('chat', chat, { input: { prompt: 'first question' } }, u1)).body.data!.chat;
    expect(started.message.model).toEqual({ id: SEED.defaultModelId });
    const continued = (await harness.post('chat', chat, { input: { prompt: 'second question', conversationId: started.conversation.id } }, u1)).body.data!.chat;
    expect(continued.conversation.messages.map((m: { content: string }) => m.content).slice(0, 3)).toEqual([
      'first question', started.message.content, 'second question',
    ]);

    const foreign = await harness.post('chat', chat, { input: { prompt: 'hi', conversationId: started.conversation.id } }, u2);
    expect(codes(foreign.body.errors)).toEqual(['NOT_FOUND']);
    const read = await harness.post('chat', 'query ($id: ID!) { conversation(id: $id) { id } }', { id: started.conversation.id }, u2);
    expect(read.body).toEqual({ data: { conversation: null } });
  });

  it('rejects unknown models and anonymous callers', async () => {
    const unknown = await harness.post('chat', chat, { input: { prompt: 'hi', model: 'm-huge' } }, u1);
    expect(codes(unknown.body.errors)).toEqual(['BAD_USER_INPUT']);
    const anonymous = await harness.post('chat', chat, { input: { prompt: 'hi' } });
    expect(codes(anonymous.body.errors)).toEqual(['UNAUTHENTICATED']);
  });

  it('lists the three models with exactly one default', async () => {
    const { body } = await harness.post('chat', '{ models { id isDefault } }');
    expect(body.data!.models.map((m: { id: string }) => m.id).sort()).toEqual([...SEED.modelIds].sort());
    expect(body.data!.models.filter((m: { isDefault: boolean }) => m.isDefault)).toEqual([{ id: SEED.defaultModelId, isDefault: true }]);
  });
});

describe('server and store', () => {
  it('answers /healthz and /readyz with JSON', async () => {
    const base = harness.servers.orders.url.replace(/\/graphql$/, '');
    for (const path of ['/healthz', '/readyz']) {
      const response = await fetch(base + path);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/json/);
      expect(await response.json()).toHaveProperty('status');
    }
  });

  it('masks store failures and reports not ready when the store is gone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'subgraphs-broken-'));
    const store = await openDatabase({ path: join(dir, 'data.db') });
    const server = await startSubgraph({ name: 'articles', port: 0, store, internalSecret: TEST_SECRET });
    try {
      await store.close();
      const { body } = await postGraphQL(server.url, { query: '{ article(id: "a1") { id } }' });
      expect(body.errors).toHaveLength(1);
      expect(body.errors![0].message).toBe('Unexpected error.');
      expect(JSON.stringify(body)).not.toMatch(/database|sqlite|stack/i);
      const ready = await fetch(server.url.replace(/\/graphql$/, '/readyz'));
      expect(ready.status).toBe(503);
    } finally {
      await server.close();
      await server.close(); // idempotent
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('drains an in-flight request on close, then refuses new connections', async () => {
    const server = await startSubgraph({ name: 'articles', port: 0, store: harness.store, internalSecret: TEST_SECRET });
    const body = JSON.stringify({ query: '{ article(id: "a1") { id } }' });
    const socket = connect(server.port, '127.0.0.1');
    await once(socket, 'connect');
    // Headers and half the body: the request is in flight until the rest arrives.
    socket.write(`POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
    await delay(200);
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    await delay(200);
    expect(closed).toBe(false);

    let response = '';
    socket.on('data', (chunk) => (response += chunk));
    const ended = once(socket, 'close');
    socket.write(body.slice(10));
    await ended;
    await closing;
    expect(response).toMatch(/^HTTP\/1\.1 200/);
    expect(response).toContain('{"data":{"article":{"id":"a1"}}}');
    await expect(fetch(server.url.replace(/\/graphql$/, '/healthz'))).rejects.toThrow();
  });

  it('seeds exactly once when several stores open a fresh file at the same moment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'subgraphs-seed-'));
    const path = join(dir, 'nested', 'data.db');
    const stores = await Promise.all(Array.from({ length: 4 }, () => openDatabase({ path })));
    try {
      const count = async (table: 'articles' | 'orders' | 'users' | 'meta') =>
        Number((await stores[3].db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
      expect(await count('articles')).toBe(SEED.articleCount);
      expect(await count('users')).toBe(SEED.userIds.length);
      expect(await count('orders')).toBe(Object.values(SEED.orderCounts).reduce((a, b) => a + b, 0));
      expect(await count('meta')).toBe(1);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
