import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_API_KEYS_PER_USER } from '../../../subgraphs/auth/resolvers.ts';
import { hashApiKey } from '../../../subgraphs/store/apiKeys.ts';
import { asPrincipal, startSubgraphs, type SubgraphHarness } from './subgraphHarness.ts';

// The auth subgraph's key lifecycle against a real server and store: create (secret once, hash
// stored), list without secrets, revoke by the owner only.
let harness: SubgraphHarness;
const u1 = asPrincipal({ userId: 'u1', scopes: ['orders:write', 'chat'] });
const u4 = asPrincipal({ userId: 'u4', scopes: [] });
const u5 = asPrincipal({ userId: 'u5', scopes: ['chat'] });

beforeAll(async () => {
  harness = await startSubgraphs(['auth']);
});
afterAll(async () => {
  await harness?.dispose();
});

const CREATE = 'mutation ($label: String!) { createApiKey(label: $label) { secret apiKey { id label prefix scopes createdAt } } }';
const REVOKE = 'mutation ($id: ID!) { revokeApiKey(id: $id) { id label } }';
const AUTHENTICATE = 'query ($key: String!) { _internalAuthenticate(apiKey: $key) { userId scopes } }';
const LIST = (userId: string) => `{ _entities(representations: [{ __typename: "User", id: "${userId}" }]) { ... on User { apiKeys { id label prefix scopes } } } }`;
const codes = (errors: Array<{ extensions?: Record<string, unknown> }> | undefined) => (errors ?? []).map((e) => e.extensions?.code);

describe('API key lifecycle in the auth subgraph', () => {
  it('creates a key whose secret is answered once, stored only as its hash, and listed without it', async () => {
    const created = await harness.post('auth', CREATE, { label: '  ci pipeline ' }, u1);
    expect(created.body.errors).toBeUndefined();
    const { secret, apiKey } = created.body.data!.createApiKey;
    expect(secret).toMatch(/^sgk_[A-Za-z0-9_-]{43}$/);
    expect(apiKey).toMatchObject({ label: 'ci pipeline', scopes: ['chat', 'orders:write'] });
    expect(secret.startsWith(apiKey.prefix)).toBe(true);
    expect(apiKey.prefix.length).toBeLessThanOrEqual(8);

    const rows = await harness.store.db.selectFrom('api_keys').selectAll().where('id', '=', apiKey.id).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0].key_hash).toBe(hashApiKey(secret));
    expect(JSON.stringify(rows)).not.toContain(secret);

    const listed = await harness.post('auth', LIST('u1'), undefined, u1);
    expect(listed.body.data!._entities[0].apiKeys).toContainEqual({ id: apiKey.id, label: 'ci pipeline', prefix: apiKey.prefix, scopes: ['chat', 'orders:write'] });
    expect(JSON.stringify(listed.body)).not.toContain(secret);

    const resolved = await harness.post('auth', AUTHENTICATE, { key: secret });
    expect(resolved.body.data!._internalAuthenticate).toEqual({ userId: 'u1', scopes: ['chat', 'orders:write'] });
  });

  it('revokes a key for its owner only; someone else gets NOT_FOUND as for an unknown id', async () => {
    const { secret, apiKey } = (await harness.post('auth', CREATE, { label: 'to revoke' }, u5)).body.data!.createApiKey;
    const foreign = await harness.post('auth', REVOKE, { id: apiKey.id }, u1);
    expect(codes(foreign.body.errors)).toEqual(['NOT_FOUND']);
    const unknown = await harness.post('auth', REVOKE, { id: 'key_0000000000000000' }, u5);
    expect(codes(unknown.body.errors)).toEqual(['NOT_FOUND']);
    expect(foreign.body.errors![0].message).toBe(unknown.body.errors![0].message);
    expect((await harness.post('auth', AUTHENTICATE, { key: secret })).body.data!._internalAuthenticate).toEqual({ userId: 'u5', scopes: ['chat'] });

    const revoked = await harness.post('auth', REVOKE, { id: apiKey.id }, u5);
    expect(revoked.body).toEqual({ data: { revokeApiKey: { id: apiKey.id, label: 'to revoke' } } });
    expect((await harness.post('auth', AUTHENTICATE, { key: secret })).body).toEqual({ data: { _internalAuthenticate: null } });
    expect((await harness.post('auth', LIST('u5'), undefined, u5)).body.data!._entities[0].apiKeys).toEqual([]);
    expect(codes((await harness.post('auth', REVOKE, { id: apiKey.id }, u5)).body.errors)).toEqual(['NOT_FOUND']);
  });

  it('refuses anonymous callers, bad labels, and more than the per-user maximum of keys', async () => {
    expect(codes((await harness.post('auth', CREATE, { label: 'x' })).body.errors)).toEqual(['UNAUTHENTICATED']);
    expect(codes((await harness.post('auth', REVOKE, { id: 'key_x' })).body.errors)).toEqual(['UNAUTHENTICATED']);
    for (const label of ['', '   ', 'x'.repeat(65)]) {
      expect(codes((await harness.post('auth', CREATE, { label }, u4)).body.errors)).toEqual(['BAD_USER_INPUT']);
    }
    for (let i = 0; i < MAX_API_KEYS_PER_USER; i++) {
      expect((await harness.post('auth', CREATE, { label: `key ${i}` }, u4)).body.errors).toBeUndefined();
    }
    const over = await harness.post('auth', CREATE, { label: 'one too many' }, u4);
    expect(codes(over.body.errors)).toEqual(['BAD_USER_INPUT']);
    expect(over.body.errors![0].extensions).toMatchObject({ limit: MAX_API_KEYS_PER_USER });
  });
});
