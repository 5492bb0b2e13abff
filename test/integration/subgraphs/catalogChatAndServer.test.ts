import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase } from '../../../scripts/scratchDatabase.ts';
import { SEED } from '../../../subgraphs/store/seed.ts';
import { startSubgraph } from '../../../subgraphs/subgraphServer.ts';
import { postGraphQL } from '../../support/graphqlClient.ts';
import { TEST_SECRET, asPrincipal, startSubgraphs, type SubgraphHarness } from './subgraphHarness.ts';

let harness: SubgraphHarness;
const u1 = asPrincipal({ userId: 'u1', scopes: ['orders:write', 'chat'] });
const u2 = asPrincipal({ userId: 'u2', scopes: [] });

beforeAll(async () => {
  harness = await startSubgraphs(['articles', 'analytics', 'chat']);
});

afterAll(async () => {
  await harness?.dispose();
});

const codes = (errors: Array<{ extensions?: Record<string, unknown> }> | undefined) => (errors ?? []).map((e) => e.extensions?.code);

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
    const base = harness.servers.articles.url.replace(/\/graphql$/, '');
    for (const path of ['/healthz', '/readyz']) {
      const response = await fetch(base + path);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/json/);
      expect(await response.json()).toHaveProperty('status');
    }
  });

  it('masks store failures and reports not ready when the store is gone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'subgraphs-broken-'));
    const database = await createScratchDatabase(dir);
    const store = await database.open();
    const server = await startSubgraph({ name: 'articles', port: 0, store, internalSecret: TEST_SECRET });
    try {
      await store.close();
      const { body } = await postGraphQL(server.url, { query: '{ article(id: "a1") { id } }' }, asPrincipal({ scopes: [] }));
      expect(body.errors).toHaveLength(1);
      expect(body.errors![0].message).toBe('Unexpected error.');
      expect(JSON.stringify(body)).not.toMatch(/database|sqlite|postgres|destroyed|stack/i);
      const ready = await fetch(server.url.replace(/\/graphql$/, '/readyz'));
      expect(ready.status).toBe(503);
    } finally {
      await server.close();
      await server.close(); // idempotent
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('drains an in-flight request on close, then refuses new connections', async () => {
    const server = await startSubgraph({ name: 'articles', port: 0, store: harness.store, internalSecret: TEST_SECRET });
    const body = JSON.stringify({ query: '{ article(id: "a1") { id } }' });
    const socket = connect(server.port, '127.0.0.1');
    await once(socket, 'connect');
    // Headers and half the body: the request is in flight until the rest arrives.
    const signed = Object.entries(asPrincipal({ scopes: [] }))[0].join(': ');
    socket.write(`POST /graphql HTTP/1.1\r\nHost: test\r\n${signed}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
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

  it('seeds exactly once when several stores open a fresh database at the same moment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'subgraphs-seed-'));
    const database = await createScratchDatabase(join(dir, 'nested'));
    const stores = await Promise.all(Array.from({ length: 4 }, () => database.open()));
    try {
      const count = async (table: 'articles' | 'orders' | 'users' | 'meta') =>
        Number((await stores[3].db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
      expect(await count('articles')).toBe(SEED.articleCount);
      expect(await count('users')).toBe(SEED.userIds.length);
      expect(await count('orders')).toBe(Object.values(SEED.orderCounts).reduce((a, b) => a + b, 0));
      expect(await count('meta')).toBe(1);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
