import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../lib/config.ts';
import { PRINCIPAL_HEADER, signPrincipal } from '../../lib/principal.ts';
import { SUBGRAPH_NAMES } from '../../subgraphs/subgraphNames.ts';
import { createRouter, type Router } from '../../router/createRouter.ts';
import { bearer, postGraphQL } from '../support/graphqlClient.ts';
import { startRedisServer, type RedisServer } from '../support/redisServer.ts';
import { DEMO_KEY, startTestStack, type TestStack } from '../support/testStack.ts';

// The whole stack mid-rotation of INTERNAL_SECRET, with Redis: gateways and subgraphs accept the
// new and the previous secret; the stack's router signs with the new one, a second router (in this
// process) still with the old one. API keys are created, used and revoked through both routers.
const NEW_SECRET = 'rotation-new-secret-0123456789abcdef';
const OLD_SECRET = 'rotation-old-secret-0123456789abcdef';
let redis: RedisServer;
let stack: TestStack;
let other: Router;
let otherUrl: string;

beforeAll(async () => {
  redis = await startRedisServer();
  stack = await startTestStack({
    // A minute-long key cache: a revocation must reach the other router by pub/sub, not by expiry.
    env: { REDIS_URL: redis.url, INTERNAL_SECRET: NEW_SECRET, INTERNAL_SECRET_PREVIOUS: OLD_SECRET, AUTH_CACHE_TTL_MS: '60000' },
  });
  const gatewayUrl = (name: string) => `http://127.0.0.1:${stack.get(`gateway-${name}`).port}/graphql`;
  const config = loadConfig({
    IDENTITY_GATEWAY_URLS: gatewayUrl('identity'),
    COMMERCE_GATEWAY_URLS: gatewayUrl('commerce'),
    REDIS_URL: redis.url,
    AUTH_CACHE_TTL_MS: '60000',
    RATE_LIMIT_ENABLED: 'false',
    // No balancer probes it: its readiness test must not make close() wait the drain notice.
    DRAIN_NOTICE_MS: '0',
  });
  other = createRouter({ config, internalSecret: OLD_SECRET, logger: pino({ level: 'silent' }) });
  otherUrl = (await other.listen(0, '127.0.0.1')).url;
}, 180_000);

afterAll(async () => {
  await other?.close();
  await stack?.dispose();
  await redis?.stop();
});

const ME = { query: '{ me { id } }' };

describe('API keys through the routers', () => {
  it('creates a key (secret once), lists it without the secret, and revokes it at every router within seconds', async () => {
    const created = await postGraphQL(stack.routerUrl, { query: 'mutation { createApiKey(label: "laptop") { secret apiKey { id label prefix scopes } } }' }, bearer(DEMO_KEY));
    expect(created.body.errors).toBeUndefined();
    const { secret, apiKey } = created.body.data!.createApiKey;
    expect(apiKey).toMatchObject({ label: 'laptop', scopes: ['chat', 'orders:write'] });

    const listed = await postGraphQL(stack.routerUrl, { query: '{ me { apiKeys { id label prefix scopes createdAt } } }' }, bearer(DEMO_KEY));
    expect(listed.body.data!.me.apiKeys.map((k: { label: string }) => k.label).sort()).toEqual(['demo', 'laptop']);
    expect(JSON.stringify(listed.body)).not.toContain(secret);

    // The new key works at both routers; the second caches it for a minute.
    for (const url of [stack.routerUrl, otherUrl]) expect((await postGraphQL(url, ME, bearer(secret))).body).toEqual({ data: { me: { id: 'u1' } } });
    // Let the second router's subscription be in place, then revoke through the first.
    await vi.waitFor(async () => expect(await redisSubscribers()).toBeGreaterThanOrEqual(2), { timeout: 10_000, interval: 100 });
    const revoked = await postGraphQL(stack.routerUrl, { query: 'mutation ($id: ID!) { revokeApiKey(id: $id) { id } }', variables: { id: apiKey.id } }, bearer(DEMO_KEY));
    expect(revoked.body).toEqual({ data: { revokeApiKey: { id: apiKey.id } } });
    const at = Date.now();
    expect((await postGraphQL(stack.routerUrl, ME, bearer(secret))).status).toBe(401);
    await vi.waitFor(async () => expect((await postGraphQL(otherUrl, ME, bearer(secret))).status).toBe(401), { timeout: 5_000, interval: 50 });
    expect(Date.now() - at).toBeLessThan(5_000);
    // The demo key of the same user keeps working everywhere.
    for (const url of [stack.routerUrl, otherUrl]) expect((await postGraphQL(url, ME, bearer(DEMO_KEY))).body).toEqual({ data: { me: { id: 'u1' } } });
  });

  it('keeps a secret out of every answer but the one that created the key, and refuses revoking what is not yours', async () => {
    const other = await postGraphQL(stack.routerUrl, { query: 'mutation { revokeApiKey(id: "key_0000000000000000") { id } }' }, bearer(DEMO_KEY));
    expect(other.body.errors![0].extensions).toMatchObject({ code: 'NOT_FOUND' });
    // createApiKey is @authenticated: the router takes it out for an anonymous caller.
    const anonymous = await postGraphQL(stack.routerUrl, { query: 'mutation { createApiKey(label: "x") { secret } }' });
    expect(anonymous.body.errors![0]).toMatchObject({ path: ['createApiKey'], extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' } });
  });

  it('makes a key with fewer scopes, which may chat but not order; never one with a scope its maker lacks', async () => {
    const narrow = await postGraphQL(stack.routerUrl, { query: 'mutation { createApiKey(label: "chat only", scopes: ["chat"]) { secret apiKey { scopes } } }' }, bearer(DEMO_KEY));
    expect(narrow.body.errors).toBeUndefined();
    const { secret, apiKey } = narrow.body.data!.createApiKey;
    expect(apiKey.scopes).toEqual(['chat']);
    const order = { query: 'mutation { placeOrder(input: { idempotencyKey: "narrow-key-1", lines: [{ articleId: "a1", quantity: 1 }] }) { id } }' };
    const refused = await postGraphQL(stack.routerUrl, order, bearer(secret));
    expect(refused.body).toEqual({ data: { placeOrder: null }, errors: [expect.objectContaining({ path: ['placeOrder'], extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' } })] });
    // What it may do, it does: its own orders (only @authenticated) are there.
    expect((await postGraphQL(stack.routerUrl, { query: '{ myOrders { totalCount } }' }, bearer(secret))).body.errors).toBeUndefined();

    const wider = await postGraphQL(stack.routerUrl, { query: 'mutation { createApiKey(label: "wider", scopes: ["chat", "admin"]) { secret } }' }, bearer(secret));
    expect(wider.body.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'scopes' });
    expect(wider.body.errors![0].message).toContain('"admin"');
  });
});

describe('field-level authorization at the gateway', () => {
  it('checks @requiresScopes again on a signed principal: a write the router would have refused changes nothing', async () => {
    const commerce = `http://127.0.0.1:${stack.get('gateway-commerce').port}/graphql`;
    const as = (scopes: string[]) => ({ [PRINCIPAL_HEADER]: signPrincipal({ userId: 'u1', scopes }, NEW_SECRET) });
    const count = async () => (await postGraphQL(commerce, { query: '{ myOrders { totalCount } }' }, as([]))).body.data!.myOrders.totalCount as number;
    const before = await count();
    const order = { query: 'mutation { placeOrder(input: { idempotencyKey: "gateway-recheck-1", lines: [{ articleId: "a1", quantity: 1 }] }) { id } }' };
    const refused = await postGraphQL(commerce, order, as(['chat']));
    expect(refused.body.errors).toEqual([expect.objectContaining({ path: ['placeOrder'], extensions: expect.objectContaining({ code: 'UNAUTHORIZED_FIELD_OR_TYPE' }) })]);
    expect(await count()).toBe(before);
    // The same call with the scope is placed: the refusal was the scope's, not the call's.
    expect((await postGraphQL(commerce, order, as(['orders:write']))).body.errors).toBeUndefined();
    expect(await count()).toBe(before + 1);
  });
});

describe('internal trust during a rotation', () => {
  it('serves both routers, whichever secret they sign with, readiness probes included', async () => {
    const both = { query: '{ me { id } models { id } }' };
    for (const url of [stack.routerUrl, otherUrl]) {
      const { body } = await postGraphQL(url, both, bearer(DEMO_KEY));
      expect(body.errors).toBeUndefined();
      expect(body.data!.me).toEqual({ id: 'u1' });
      expect((await fetch(url.replace(/\/graphql$/, '/readyz'))).status).toBe(200);
    }
  });

  it('answers gateways and subgraphs signed with either secret only; health and _service { sdl } stay open', async () => {
    const signedWith = (secret: string) => ({ [PRINCIPAL_HEADER]: signPrincipal({ userId: 'u1', scopes: [] }, secret) });
    for (const target of ['gateway-identity', 'users-1']) {
      const url = `http://127.0.0.1:${stack.get(target).port}/graphql`;
      for (const secret of [NEW_SECRET, OLD_SECRET]) expect((await postGraphQL(url, ME, signedWith(secret))).body).toEqual({ data: { me: { id: 'u1' } } });
      const refused = await postGraphQL(url, ME, signedWith('a-third-secret-0123456789abcdef'));
      expect([refused.status, refused.body.errors![0].extensions!.code]).toEqual([401, 'UNAUTHENTICATED']);
    }
    for (const name of SUBGRAPH_NAMES) {
      const origin = `http://127.0.0.1:${stack.get(`${name}-0`).port}`;
      const introspect = await postGraphQL(`${origin}/graphql`, { query: '{ _service { sdl } }' });
      expect(introspect.status, name).toBe(200);
      expect(introspect.body.data!._service.sdl, name).toMatch(/\btype \w+/);
      expect((await postGraphQL(`${origin}/graphql`, { query: '{ __typename }' })).status, name).toBe(401);
      expect((await fetch(`${origin}/healthz`)).status, name).toBe(200);
    }
  });
});

/** Routers subscribed to revocations, as Redis counts them. */
async function redisSubscribers(): Promise<number> {
  const { Redis } = await import('ioredis');
  const client = new Redis(redis.url);
  try {
    const [, count] = (await client.pubsub('NUMSUB', 'sg:api-keys:revoked')) as [string, number];
    return Number(count);
  } finally {
    client.disconnect();
  }
}
