import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../lib/config.ts';
import { createApiKeyResolver } from '../../../router/apiKeyResolver.ts';
import { createApiKeyRevocations } from '../../../router/apiKeyRevocations.ts';
import { createRouter, type Router } from '../../../router/createRouter.ts';
import type { GatewayClient, GatewayOutcome } from '../../../router/gatewayClient.ts';
import { freePort } from '../../support/freePort.ts';
import { startRedisServer, type RedisServer } from '../../support/redisServer.ts';

// Revocation at the router: the router that served revokeApiKey forgets the user's keys at once,
// others hear it over Redis pub/sub, and without Redis the key cache's TTL is the bound.
const SECRET = 'revocation-test-secret-0123456789';
let redis: RedisServer;
const closing: Array<() => Promise<unknown>> = [];
beforeAll(async () => {
  redis = await startRedisServer();
});
afterEach(async () => {
  await Promise.all(closing.splice(0).map((close) => close()));
});
afterAll(() => redis.stop());

const ok = (data: Record<string, unknown> | null, errors?: unknown[]): GatewayOutcome => ({ ok: true, status: 200, attempts: 1, result: { data, errors: errors as never } });

/** An identity supergraph whose keys a test adds and revokes; revokeApiKey deletes like the auth subgraph. */
function identityWith(keys: Map<string, { id: string; userId: string }>) {
  let lookups = 0;
  const client: GatewayClient = {
    supergraph: 'identity',
    async execute(request) {
      if (request.operationName === 'RouterAuthenticate') {
        lookups++;
        const key = keys.get(request.variables!.apiKey as string);
        return ok({ _internalAuthenticate: key ? { userId: key.userId, scopes: [], user: { plan: 'PRO' } } : null });
      }
      const id = /revokeApiKey\(id: "(\w+)"\)/.exec(request.query)?.[1];
      if (id) {
        for (const [secret, key] of keys) if (key.id === id) keys.delete(secret);
        return ok({ revokeApiKey: { id } });
      }
      return ok({ me: { id: 'u1' } });
    },
    lastAnsweredAt: () => undefined,
    close: async () => {},
  };
  return { client, lookups: () => lookups };
}

const commerce: GatewayClient = { supergraph: 'commerce', execute: async () => ok({ models: [] }), lastAnsweredAt: () => undefined, close: async () => {} };

function router(identity: GatewayClient, env: Record<string, string> = {}): Router {
  const base = loadConfig({ AUTH_CACHE_TTL_MS: '60000', RATE_LIMIT_ENABLED: 'false', RESPONSE_CACHE: 'off', ...env });
  const created = createRouter({ config: base, internalSecret: SECRET, gateways: { identity, commerce }, logger: pino({ level: 'silent' }) });
  closing.push(() => created.close());
  return created;
}

async function post(target: Router, query: string, apiKey: string) {
  const response = await target.fetch('http://router.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: await response.json() };
}

const ME = '{ me { id } }';

describe('API key revocation at the router', () => {
  it('refuses a revoked key at the router that served revokeApiKey at once, though its cache TTL is a minute', async () => {
    const keys = new Map([['key-a', { id: 'k1', userId: 'u1' }], ['key-b', { id: 'k2', userId: 'u1' }], ['key-c', { id: 'k3', userId: 'u2' }]]);
    const identity = identityWith(keys);
    const edge = router(identity.client);
    for (const key of ['key-a', 'key-b', 'key-c']) expect((await post(edge, ME, key)).status).toBe(200);
    expect(identity.lookups()).toBe(3);

    const revoked = await post(edge, 'mutation { revokeApiKey(id: "k1") { id } }', 'key-b');
    expect(revoked.body).toEqual({ data: { revokeApiKey: { id: 'k1' } } });
    await vi.waitFor(async () => expect((await post(edge, ME, 'key-a')).status).toBe(401), { timeout: 1_000, interval: 10 });
    // The user's other key is looked up again (still valid); another user's stays cached.
    const before = identity.lookups();
    expect((await post(edge, ME, 'key-b')).status).toBe(200);
    expect((await post(edge, ME, 'key-c')).status).toBe(200);
    expect(identity.lookups()).toBe(before + 1);
  });

  it('tells every router through Redis pub/sub: another instance refuses the key within a few seconds', async () => {
    const keys = new Map([['key-a', { id: 'k1', userId: 'u1' }], ['key-b', { id: 'k2', userId: 'u1' }]]);
    const identity = identityWith(keys);
    const env = { REDIS_URL: redis.url };
    const [first, second] = [router(identity.client, env), router(identity.client, env)];
    expect((await post(second, ME, 'key-a')).status).toBe(200); // cached at the second router for a minute
    // Let the second router's subscription be in place before the message goes out.
    await vi.waitFor(async () => expect(await subscribers(redis.url)).toBeGreaterThanOrEqual(2), { timeout: 5_000, interval: 50 });

    await post(first, 'mutation { revokeApiKey(id: "k1") { id } }', 'key-b');
    const started = Date.now();
    await vi.waitFor(async () => expect((await post(second, ME, 'key-a')).status).toBe(401), { timeout: 3_000, interval: 20 });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('without Redis, bounds a missed revocation by the key cache TTL', async () => {
    const keys = new Map([['key-a', { id: 'k1', userId: 'u1' }]]);
    const identity = identityWith(keys);
    const other = router(identity.client, { AUTH_CACHE_TTL_MS: '300' });
    expect((await post(other, ME, 'key-a')).status).toBe(200);
    keys.delete('key-a'); // revoked through some other router, which cannot tell this one
    expect((await post(other, ME, 'key-a')).status).toBe(200);
    await vi.waitFor(async () => expect((await post(other, ME, 'key-a')).status).toBe(401), { timeout: 2_000, interval: 50 });
  });

  it('forgets stale-if-error copies too, and does not cache a lookup that raced a revocation', async () => {
    let now = 1_000_000;
    let identityUp = true;
    let gate: Promise<void> | undefined;
    let calls = 0;
    const client: GatewayClient = {
      supergraph: 'identity',
      async execute() {
        calls++;
        // The answer is read when the lookup starts, as a subgraph would read the row.
        const answer: GatewayOutcome = identityUp
          ? ok({ _internalAuthenticate: { userId: 'u1', scopes: [] } })
          : { ok: false, failure: { reason: 'network', attempts: 1 }, detail: 'down' };
        await gate;
        return answer;
      },
      lastAnsweredAt: () => undefined,
      close: async () => {},
    };
    const resolver = createApiKeyResolver({ identity: client, ttlMs: 1_000, staleIfErrorMs: 60_000, now: () => now });
    expect((await resolver.resolve('key-a')).status).toBe('valid');
    now += 2_000;
    identityUp = false;
    expect((await resolver.resolve('key-a')).status).toBe('valid'); // stale-if-error during the outage
    resolver.forgetUser('u1');
    expect((await resolver.resolve('key-a')).status).toBe('unavailable');

    identityUp = true;
    let open!: () => void;
    gate = new Promise<void>((resolve) => (open = resolve));
    const racing = resolver.resolve('key-b');
    resolver.forgetUser('u1');
    open();
    expect((await racing).status).toBe('valid'); // answered once...
    gate = undefined;
    identityUp = false;
    const before = calls;
    expect((await resolver.resolve('key-b')).status).toBe('unavailable'); // ...but neither cached nor kept as stale
    expect(calls).toBe(before + 1);
  });

  it('does not hang when Redis is unreachable: the local forget still happens', async () => {
    const forgotten: string[] = [];
    const revocations = createApiKeyRevocations({ resolver: { forgetUser: (u) => forgotten.push(u) }, redisUrl: `redis://127.0.0.1:${await freePort()}` });
    const started = Date.now();
    await revocations.revoked('u9');
    await revocations.close();
    expect(forgotten).toEqual(['u9']);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

/** Subscribers of the revocation channel, from Redis itself. */
async function subscribers(url: string): Promise<number> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url);
  try {
    const [, count] = (await client.pubsub('NUMSUB', 'sg:api-keys:revoked')) as [string, number];
    return Number(count);
  } finally {
    client.disconnect();
  }
}
