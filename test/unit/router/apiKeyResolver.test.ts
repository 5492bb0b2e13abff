import { describe, expect, it } from 'vitest';
import { AUTHENTICATE_QUERY, createApiKeyResolver } from '../../../router/apiKeyResolver.ts';
import type { GatewayClient, GatewayOutcome, GatewayRequest } from '../../../router/gatewayClient.ts';

function fakeIdentity(answer: (apiKey: string) => GatewayOutcome | Promise<GatewayOutcome>) {
  const calls: GatewayRequest[] = [];
  const client: GatewayClient = {
    supergraph: 'identity',
    async execute(request) {
      calls.push(request);
      return answer(request.variables!.apiKey as string);
    },
    lastAnsweredAt: () => undefined,
    close: async () => {},
  };
  return { client, calls };
}

const found = (userId: string): GatewayOutcome => ({ ok: true, status: 200, attempts: 1, result: { data: { _internalAuthenticate: { userId, scopes: ['orders:write'] } } } });
const unknown: GatewayOutcome = { ok: true, status: 200, attempts: 1, result: { data: { _internalAuthenticate: null } } };

describe('apiKeyResolver', () => {
  it('asks the identity supergraph as the anonymous principal and caches a valid key until its TTL', async () => {
    let now = 1_000_000;
    const { client, calls } = fakeIdentity(() => found('u1'));
    const resolver = createApiKeyResolver({ identity: client, ttlMs: 30_000, now: () => now });
    expect(await resolver.resolve('key-1')).toEqual({ status: 'valid', principal: { userId: 'u1', scopes: ['orders:write'] } });
    expect(calls[0].query).toBe(AUTHENTICATE_QUERY);
    expect(calls[0].operationName).toBe('RouterAuthenticate');
    // As the anonymous caller: the gateway client signs it.
    expect(calls[0].principal).toEqual({ scopes: [] });

    now += 23_000;
    await resolver.resolve('key-1');
    expect(calls).toHaveLength(1);
    now += 8_000; // past the TTL with nobody asking in between: the next request waits for a lookup
    await resolver.resolve('key-1');
    expect(calls).toHaveLength(2);
  });

  it('refreshes a key in use in the background from 80% of its TTL, so no request waits, and a revocation still lands', async () => {
    let now = 1_000_000;
    let answer: GatewayOutcome = found('u1');
    const gate = { open: () => {} };
    let held = false;
    const { client, calls } = fakeIdentity(() => (held ? new Promise<GatewayOutcome>((resolve) => (gate.open = () => resolve(answer))) : answer));
    const resolver = createApiKeyResolver({ identity: client, ttlMs: 30_000, now: () => now });
    await resolver.resolve('key-1');
    now += 24_000;
    held = true; // the refresh hangs: requests must not wait for it
    expect(await resolver.resolve('key-1')).toMatchObject({ status: 'valid' });
    expect(await resolver.resolve('key-1')).toMatchObject({ status: 'valid' });
    expect(calls).toHaveLength(2); // one refresh, however many requests read the key meanwhile
    answer = unknown; // the key was revoked: the refresh learns it
    gate.open();
    await new Promise((resolve) => setImmediate(resolve));
    expect(await resolver.resolve('key-1')).toEqual({ status: 'invalid' });
    expect(calls).toHaveLength(2);
  });

  it('caches an unknown key for a shorter time', async () => {
    let now = 1_000; // lru-cache reads a start time of 0 as "no TTL"
    const { client, calls } = fakeIdentity(() => unknown);
    const resolver = createApiKeyResolver({ identity: client, ttlMs: 30_000, negativeTtlMs: 1_000, now: () => now });
    expect(await resolver.resolve('nope')).toEqual({ status: 'invalid' });
    now += 500;
    await resolver.resolve('nope');
    expect(calls).toHaveLength(1);
    now += 600;
    await resolver.resolve('nope');
    expect(calls).toHaveLength(2);
  });

  it('reports an outage as unavailable and does not cache it', async () => {
    let down = true;
    const { client, calls } = fakeIdentity(() => (down ? { ok: false, failure: { reason: 'network', attempts: 2 }, detail: 'ECONNREFUSED' } : found('u2')));
    const resolver = createApiKeyResolver({ identity: client });
    expect(await resolver.resolve('k')).toEqual({ status: 'unavailable', failure: { reason: 'network', attempts: 2 } });
    down = false;
    expect(await resolver.resolve('k')).toMatchObject({ status: 'valid' });
    expect(calls).toHaveLength(2);
  });

  it('shares one lookup between requests that wait for it during an outage, and asks again for the next', async () => {
    const { client, calls } = fakeIdentity(() => ({ ok: false, failure: { reason: 'timeout', attempts: 1 }, detail: 'slow' }));
    const resolver = createApiKeyResolver({ identity: client });
    const [first, second] = await Promise.all([resolver.resolve('k'), resolver.resolve('k')]);
    expect([first, second]).toEqual([
      { status: 'unavailable', failure: { reason: 'timeout', attempts: 1 } },
      { status: 'unavailable', failure: { reason: 'timeout', attempts: 1 } },
    ]);
    expect(calls).toHaveLength(1);
    await resolver.resolve('k');
    expect(calls).toHaveLength(2); // outages are not cached across requests
  });

  it('reads the plan with the key, and keeps a good key working (plan-less, rechecked soon) when users is down', async () => {
    let now = 1_000_000;
    let usersUp = true;
    const { client, calls } = fakeIdentity(() =>
      usersUp
        ? { ok: true, status: 200, attempts: 1, result: { data: { _internalAuthenticate: { userId: 'u1', scopes: [], user: { plan: 'PRO' } } } } }
        : {
            ok: true,
            status: 200,
            attempts: 1,
            result: {
              data: { _internalAuthenticate: { userId: 'u1', scopes: [], user: null } },
              errors: [{ message: 'The users service is unavailable.', path: ['_internalAuthenticate', 'user', 'plan'], extensions: { code: 'DOWNSTREAM_SERVICE_ERROR' } }],
            },
          },
    );
    const resolver = createApiKeyResolver({ identity: client, ttlMs: 30_000, negativeTtlMs: 1_000, now: () => now });
    expect(await resolver.resolve('k')).toEqual({ status: 'valid', principal: { userId: 'u1', scopes: [], plan: 'PRO' } });
    usersUp = false;
    now += 31_000;
    // The last known plan is kept while it cannot be read, and asked for again after the short TTL.
    expect(await resolver.resolve('k')).toEqual({ status: 'valid', principal: { userId: 'u1', scopes: [], plan: 'PRO' } });
    now += 1_001;
    await resolver.resolve('k');
    expect(calls).toHaveLength(3);
    const fresh = createApiKeyResolver({ identity: client });
    expect(await fresh.resolve('k')).toEqual({ status: 'valid', principal: { userId: 'u1', scopes: [] } });
  });

  it('does not call a key invalid when the lookup answered with errors (auth subgraph down)', async () => {
    const { client } = fakeIdentity(() => ({
      ok: true,
      status: 200,
      attempts: 1,
      result: {
        data: { _internalAuthenticate: null },
        errors: [{ message: 'The auth service is unavailable.', extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'auth', reason: 'timeout' } }],
      },
    }));
    const resolver = createApiKeyResolver({ identity: client });
    expect(await resolver.resolve('k')).toEqual({ status: 'unavailable', failure: { reason: 'timeout', attempts: 1 } });
  });

  it('shares one lookup between concurrent requests with the same key', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { client, calls } = fakeIdentity(async () => {
      await gate;
      return found('u3');
    });
    const resolver = createApiKeyResolver({ identity: client });
    const pending = [resolver.resolve('same'), resolver.resolve('same'), resolver.resolve('same')];
    release();
    const results = await Promise.all(pending);
    expect(results.every((r) => r.status === 'valid')).toBe(true);
    expect(calls).toHaveLength(1);
  });

  it('keeps at most maxEntries keys', async () => {
    const { client, calls } = fakeIdentity((key) => found(key));
    const resolver = createApiKeyResolver({ identity: client, maxEntries: 2 });
    for (const key of ['a', 'b', 'c', 'c', 'b', 'a']) await resolver.resolve(key);
    // a, b, c looked up; c and b still cached; a was evicted when c arrived.
    expect(calls.map((c) => c.variables!.apiKey)).toEqual(['a', 'b', 'c', 'a']);
  });
});

describe('apiKeyResolver during an identity outage', () => {
  it('keeps a known key working with its last valid answer, but never guesses an unknown one', async () => {
    let now = 1_000_000;
    let identityUp = true;
    const { client } = fakeIdentity(() => (identityUp ? found('u1') : { ok: false, failure: { reason: 'network', attempts: 2 }, detail: 'down' }));
    const resolver = createApiKeyResolver({ identity: client, ttlMs: 1_000, staleIfErrorMs: 60_000, now: () => now });
    await resolver.resolve('key-1');
    identityUp = false;
    now += 5_000; // past the fresh TTL
    expect(await resolver.resolve('key-1')).toEqual({ status: 'valid', principal: { userId: 'u1', scopes: ['orders:write'] } });
    expect(await resolver.resolve('key-2')).toMatchObject({ status: 'unavailable', failure: { reason: 'network' } });
    now += 60_000; // past the stale window too
    expect(await resolver.resolve('key-1')).toMatchObject({ status: 'unavailable' });
  });
});
