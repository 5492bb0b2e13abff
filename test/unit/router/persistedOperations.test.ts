import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryCacheStore } from '../../../lib/cache/memoryCacheStore.ts';
import { RedisCacheStore } from '../../../lib/cache/redisCacheStore.ts';
import { loadConfig } from '../../../lib/config.ts';
import { startRedisServer, type RedisServer } from '../../support/redisServer.ts';
import { edgeRouter, type EdgeRouter } from './edgeRouter.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const MODELS = 'query Models { models { id } }';
const apq = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });

const opened: EdgeRouter[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((r) => r.router.close()));
});
function open(options: Parameters<typeof edgeRouter>[0]): EdgeRouter {
  const edge = edgeRouter({ ...options, edge: { rateLimit: { enabled: false }, ...options?.edge } });
  opened.push(edge);
  return edge;
}

describe('automatic persisted queries', () => {
  it('answers an unknown hash with 404 PERSISTED_QUERY_NOT_FOUND, registers hash + query, then serves the hash alone (POST and GET)', async () => {
    const { post, get, calls } = open({});
    const hash = sha256(MODELS);
    const miss = await post({ extensions: apq(hash) });
    expect(miss.status).toBe(404);
    expect(miss.body).toEqual({ errors: [{ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }] });
    expect(calls).toEqual([]);

    const register = await post({ query: MODELS, extensions: apq(hash) });
    expect([register.status, register.body]).toEqual([200, { data: { models: [{ id: 'm1' }] } }]);

    const byHash = await post({ extensions: apq(hash), operationName: 'Models' });
    expect([byHash.status, byHash.body]).toEqual([200, { data: { models: [{ id: 'm1' }] } }]);
    const byGet = await get({ extensions: JSON.stringify(apq(hash)) });
    expect([byGet.status, byGet.body]).toEqual([200, { data: { models: [{ id: 'm1' }] } }]);
    expect(calls.map((c) => c.query)).toEqual([MODELS, MODELS, MODELS]);
  });

  it('refuses a hash that does not match its query, and never registers an invalid operation', async () => {
    const { post } = open({});
    const mismatch = await post({ query: MODELS, extensions: apq(sha256('{ me { id } }')) });
    expect([mismatch.status, mismatch.body.errors[0].extensions.code]).toEqual([400, 'PERSISTED_QUERY_HASH_MISMATCH']);

    const invalid = '{ models { nope } }';
    expect((await post({ query: invalid, extensions: apq(sha256(invalid)) })).status).toBe(400);
    const after = await post({ extensions: apq(sha256(invalid)) });
    expect([after.status, after.body.errors[0].extensions.code]).toEqual([404, 'PERSISTED_QUERY_NOT_FOUND']);

    const wrongVersion = await post({ extensions: { persistedQuery: { version: 2, sha256Hash: sha256(MODELS) } } });
    expect([wrongVersion.status, wrongVersion.body.errors[0].extensions.code]).toEqual([400, 'BAD_REQUEST']);
  });

  describe('through Redis', () => {
    let redis: RedisServer;
    beforeAll(async () => {
      redis = await startRedisServer();
    });
    afterAll(() => redis.stop());

    it('serves a hash registered at one router instance from another', async () => {
      const stores = [0, 1].map(() => new RedisCacheStore({ url: redis.url, commandTimeoutMs: 2_000 }));
      try {
        await new Promise<void>((resolve) => {
          const wait = () => (stores.every((s) => s.available) ? resolve() : setTimeout(wait, 20));
          wait();
        });
        const [a, b] = stores.map((cacheStore) => open({ cacheStore }));
        const hash = sha256(MODELS);
        expect((await a.post({ query: MODELS, extensions: apq(hash) })).status).toBe(200);
        // Registration is written after validation without waiting; give the write its round trip.
        let answer = await b.post({ extensions: apq(hash) });
        for (let i = 0; i < 50 && answer.status === 404; i++) {
          await new Promise((resolve) => setTimeout(resolve, 10));
          answer = await b.post({ extensions: apq(hash) });
        }
        expect([answer.status, answer.body]).toEqual([200, { data: { models: [{ id: 'm1' }] } }]);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });
  });
});

describe('trusted documents', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trusted-'));
  const ME = 'query Me { me { id } }';
  const apolloManifest = join(dir, 'apollo.json');
  writeFileSync(
    apolloManifest,
    JSON.stringify({
      format: 'apollo-persisted-query-manifest',
      version: 1,
      operations: [
        { id: sha256(MODELS), name: 'Models', type: 'query', body: MODELS },
        { id: sha256(ME), name: 'Me', type: 'query', body: ME },
      ],
    }),
  );
  const guildManifest = join(dir, 'guild.json');
  writeFileSync(guildManifest, JSON.stringify({ 'sha1:abc123': MODELS }));
  const enforced = (manifestPath: string, requireId = false) =>
    open({ edge: { persistedQueries: { manifestPath, trustedDocuments: 'enforce', requireId, apqEnabled: false } } });

  it('runs a manifest operation by id (Apollo manifest, persistedQuery extension)', async () => {
    const { post, get } = enforced(apolloManifest);
    const byId = await post({ extensions: apq(sha256(MODELS)) });
    expect([byId.status, byId.body]).toEqual([200, { data: { models: [{ id: 'm1' }] } }]);
    expect((await get({ extensions: JSON.stringify(apq(sha256(ME))) })).body).toEqual({ data: { me: { id: 'u1' } } });
  });

  it('runs a manifest operation by documentId (The Guild’s flat map)', async () => {
    const { post } = enforced(guildManifest);
    const byId = await post({ documentId: 'sha1:abc123' });
    expect([byId.status, byId.body]).toEqual([200, { data: { models: [{ id: 'm1' }] } }]);
  });

  it('accepts a manifest operation sent as text, whitespace aside, and refuses every other operation', async () => {
    const { post, calls } = enforced(apolloManifest);
    expect((await post({ query: 'query Models {\n  models {\n    id\n  }\n}' })).status).toBe(200);
    calls.length = 0;

    const unknownId = await post({ extensions: apq(sha256('{ models { name } }')) });
    expect([unknownId.status, unknownId.body.errors[0].extensions.code]).toEqual([404, 'PERSISTED_QUERY_NOT_IN_LIST']);
    const freeform = await post({ query: '{ models { id name } }' });
    expect(freeform.status).toBe(403);
    expect(freeform.body.errors).toEqual([{ message: 'This operation is not in the list of trusted operations.', extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST' } }]);
    // The manifest's text runs, not text sent along with a manifest id.
    const smuggled = await post({ query: '{ me { id name email } }', extensions: apq(sha256(MODELS)) });
    expect(smuggled.body).toEqual({ data: { models: [{ id: 'm1' }] } });
    expect(calls.map((c) => c.query)).toEqual([MODELS]);
  });

  it('refuses text altogether with requireId: 400 PERSISTED_QUERY_ID_REQUIRED', async () => {
    const { post } = enforced(apolloManifest, true);
    const text = await post({ query: MODELS });
    expect([text.status, text.body.errors[0].extensions.code]).toEqual([400, 'PERSISTED_QUERY_ID_REQUIRED']);
    expect((await post({ extensions: apq(sha256(MODELS)) })).status).toBe(200);
  });

  it('only logs operations outside the manifest in log mode, once per distinct operation', async () => {
    const lines: Array<{ msg: string; query?: string }> = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const { post } = open({ logger, edge: { persistedQueries: { manifestPath: apolloManifest, trustedDocuments: 'log' } } });
    expect((await post({ query: '{ models { id name } }' })).status).toBe(200);
    expect((await post({ query: '{ models { id name } }' })).status).toBe(200);
    expect((await post({ query: MODELS })).status).toBe(200);
    const unknown = lines.filter((l) => l.msg.includes('not in the trusted documents manifest'));
    expect(unknown.map((l) => l.query)).toEqual(['{ models { id name } }']);
  });

  it('stops start-up on a manifest that is neither format, and when a mode has no manifest', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify([1, 2]));
    expect(() => enforced(bad)).toThrow(/trusted documents manifest .*bad\.json: expected an apollo-persisted-query-manifest/);
    expect(() => loadConfig({ TRUSTED_DOCUMENTS: 'enforce' })).toThrow(/edge\.persistedQueries\.manifestPath.*TRUSTED_DOCUMENTS_MANIFEST/);
  });
});

describe('APQ next to trusted documents in log mode', () => {
  it('still serves APQ and resolves manifest ids first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trusted-'));
    const manifest = join(dir, 'm.json');
    writeFileSync(manifest, JSON.stringify({ custom: MODELS }));
    const { post } = open({ cacheStore: new MemoryCacheStore(), edge: { persistedQueries: { manifestPath: manifest, trustedDocuments: 'log' } } });
    expect((await post({ extensions: apq('custom') })).body).toEqual({ data: { models: [{ id: 'm1' }] } });
    const other = '{ me { id } }';
    expect((await post({ extensions: apq(sha256(other)) })).status).toBe(404);
    expect((await post({ query: other, extensions: apq(sha256(other)) })).status).toBe(200);
    expect((await post({ extensions: apq(sha256(other)) })).body).toEqual({ data: { me: { id: 'u1' } } });
  });
});
