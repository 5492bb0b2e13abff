import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { buildSchema, parse } from 'graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryCacheStore } from '../../../lib/cache/memoryCacheStore.ts';
import { readCacheHints } from '../../../lib/fallback/cacheHints.ts';
import { FallbackCache } from '../../../lib/fallback/fallbackCache.ts';
import { StaleIfError, type FallbackPolicy } from '../../../lib/fallback/staleIfError.ts';
import { ReplicaPool } from '../../../lib/upstream/replicaPool.ts';
import { UpstreamClient } from '../../../lib/upstream/upstreamClient.ts';
import { referenceSupergraphSdl as readSupergraphSdl } from '../../support/referenceSupergraph.ts';
import { createFetchShapes } from '../../../supergraphs/fetchShape.ts';
import type { GatewayContext } from '../../../supergraphs/gatewayContext.ts';
import { ReplicaDataSource } from '../../../supergraphs/replicaDataSource.ts';
import { startFakeGateway, type FakeAnswer, type FakeGateway } from '../router/fakeGateway.ts';

// The gateway's subgraph data source on its own, over real HTTP to two replicas a test controls:
// the privacy-critical part of stale-if-error (whose answer is kept, and for whom) without a stack.
const sdl = readSupergraphSdl('commerce');
const shapes = createFetchShapes(buildSchema(sdl, { assumeValidSDL: true }), readCacheHints(sdl));
const store = new MemoryCacheStore();
const answered: string[] = [];
const policies: Record<string, FallbackPolicy> = { articles: 'cache', orders: 'degraded', analytics: 'cache' };
const staleIfError = new StaleIfError({
  cache: new FallbackCache(store, 60),
  policyOf: (name) => policies[name] ?? 'none',
  onAnswer: (name, answer) => answered.push(`${name}:${answer}`),
});

let reply: () => FakeAnswer = () => ({ status: 503, raw: 'down' });
const replicas: FakeGateway[] = [];
const clients: UpstreamClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(replicas.map((r) => r.close()));
});
beforeAll(async () => {
  for (let i = 0; i < 2; i++) replicas.push(await startFakeGateway(() => reply()));
  articles = dataSource('articles');
  orders = dataSource('orders');
});
beforeEach(() => {
  answered.length = 0;
  for (const r of replicas) r.seen.length = 0;
});

function dataSource(serviceName: string): ReplicaDataSource {
  const client = new UpstreamClient({ pool: new ReplicaPool({ name: serviceName, urls: replicas.map((r) => r.url) }), timeoutMs: 1_000, retryBackoffMs: 0 });
  clients.push(client);
  return new ReplicaDataSource({ serviceName, client, staleIfError, shapes, degradedData: () => ({ myOrders: { edges: [], totalCount: 0 } }) });
}
let articles: ReplicaDataSource;
let orders: ReplicaDataSource;

const as = (userId?: string): GatewayContext => ({
  principal: userId ? { userId, scopes: [] } : { scopes: [] },
  principalHeaders: () => ({ 'x-internal-principal': `token-${userId ?? 'anon'}` }),
});
function fetchVia(source: ReplicaDataSource, query: string, context: GatewayContext, variables: Record<string, unknown> = {}) {
  // What the gateway's plan executor passes for a fetch (`kind` is an enum the package does not export).
  const options = { kind: 'incoming operation', request: { query, variables }, context, document: parse(query), incomingRequestContext: {} };
  return source.process(options as unknown as GraphQLDataSourceProcessOptions<GatewayContext>);
}

const PRIVATE_FETCH = '{ myOrders { totalCount } }';
const PUBLIC_FETCH = '{ articles(first: 1) { totalCount } }';
const ENTITY_FETCH = 'query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Article { views } } }';

describe('ReplicaDataSource: stale-if-error scoped to the principal', () => {
  it('serves a private answer only to the principal it was stored for', async () => {
    const privateSource = dataSource('analytics'); // policy cache
    reply = () => ({ json: { data: { myOrders: { totalCount: 7 } } } });
    expect((await fetchVia(privateSource, PRIVATE_FETCH, as('u1'))).data).toEqual({ myOrders: { totalCount: 7 } });
    expect(replicas.flatMap((r) => r.seen.map((s) => s.headers['x-internal-principal']))).toEqual(['token-u1']);

    reply = () => ({ status: 503, raw: 'down' });
    const own = await fetchVia(privateSource, PRIVATE_FETCH, as('u1'));
    expect(own.data).toEqual({ myOrders: { totalCount: 7 } });
    expect(own.errors?.[0]).toMatchObject({ path: ['myOrders'], extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'analytics', fallback: { source: 'cache' } } });
    for (const other of [as('u2'), as()]) {
      const answer = await fetchVia(privateSource, PRIVATE_FETCH, other);
      expect(answer.data).toBeNull();
      expect(answer.errors?.[0].extensions).not.toHaveProperty('fallback');
    }
    expect(answered).toEqual(['analytics:cache', 'analytics:none', 'analytics:none']);
  });

  it('shares a public answer (root or entity fetch) with every principal', async () => {
    reply = () => ({ json: { data: { articles: { totalCount: 100 }, _entities: [{ views: 3 }] } } });
    await fetchVia(articles, PUBLIC_FETCH, as('u1'));
    await fetchVia(articles, ENTITY_FETCH, as('u1'), { representations: [{ __typename: 'Article', id: 'a1' }] });
    reply = () => ({ status: 503, raw: 'down' });
    for (const other of [as('u2'), as()]) {
      expect((await fetchVia(articles, PUBLIC_FETCH, other)).data).toEqual({ articles: { totalCount: 100 }, _entities: [{ views: 3 }] });
      const entity = await fetchVia(articles, ENTITY_FETCH, other, { representations: [{ __typename: 'Article', id: 'a1' }] });
      expect(entity.errors?.map((e) => e.path)).toEqual([['_entities', 0]]);
      expect(entity.errors?.[0].extensions?.fallback).toMatchObject({ source: 'cache' });
    }
    // Different variables are a different answer: nothing to stand in.
    expect((await fetchVia(articles, ENTITY_FETCH, as('u1'), { representations: [{ __typename: 'Article', id: 'a2' }] })).data).toBeNull();
  });

  it('never remembers, retries or stands in for a mutation, even under a degraded policy', async () => {
    const mutation = 'mutation { placeOrder(input: { idempotencyKey: "k1", lines: [] }) { id } }';
    reply = () => ({ json: { data: { placeOrder: { id: 'o1' } } } });
    expect((await fetchVia(orders, mutation, as('u1'))).data).toEqual({ placeOrder: { id: 'o1' } });
    expect(await store.get(new FallbackCache(store, 60).key('orders', mutation, '{}', { kind: 'principal', id: 'u1' }))).toBeUndefined();

    reply = () => ({ status: 503, raw: 'down' });
    const failed = await fetchVia(orders, mutation, as('u1'));
    expect(failed.data).toBeNull();
    expect(failed.errors?.[0].extensions).toMatchObject({ code: 'DOWNSTREAM_SERVICE_ERROR', reason: 'http_5xx', attempts: 1 });
    expect(failed.errors?.[0].extensions).not.toHaveProperty('fallback');
    expect(replicas.reduce((n, r) => n + r.seen.length, 0)).toBe(2); // one success, one failure, no retry
  });

  it('answers a failed private query degraded when that is the policy', async () => {
    reply = () => ({ status: 503, raw: 'down' });
    const answer = await fetchVia(orders, PRIVATE_FETCH, as('u1'));
    expect(answer.data).toEqual({ myOrders: { edges: [], totalCount: 0 } });
    expect(answer.errors?.[0].extensions?.fallback).toMatchObject({ source: 'degraded' });
    expect(answered).toEqual(['orders:degraded']);
  });
});
